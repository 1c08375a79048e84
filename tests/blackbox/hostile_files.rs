//! Hostile and unlucky files, on every engine: files bounded before they are expanded
//! (workbooks that expand to gigabytes, sheets of too many rows, cells and lines too long),
//! and text files that mix encodings. Each is refused (or its rows are) with a message
//! naming the bound, within the memory bound, leaving the database unchanged.
