//! Importer contract.
