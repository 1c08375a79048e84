//! Relay global ids: `Type:id`, base64url-encoded, opaque to clients.

use async_graphql::{Error, ID};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::list::bad_input;

/// The global id of row `id` of type `type_name`.
pub fn encode(type_name: &str, id: i64) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{type_name}:{id}")))
}

/// Splits a global id into its type name and row id.
pub fn decode(id: &ID) -> Result<(String, i64), Error> {
    let invalid = || bad_input("The id is not a valid global id.");
    let bytes = URL_SAFE_NO_PAD.decode(id.as_str()).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (type_name, row) = text.split_once(':').ok_or_else(invalid)?;
    let row: i64 = row.parse().map_err(|_| invalid())?;
    Ok((type_name.to_owned(), row))
}

/// The row id of a global id that must be of type `type_name`.
pub fn decode_as(id: &ID, type_name: &str) -> Result<i64, Error> {
    let (t, row) = decode(id)?;
    if t != type_name {
        return Err(bad_input(format!(
            "The id is the id of a {t}, not of a {type_name}."
        )));
    }
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_type_check() {
        let id = encode("Firm", 42);
        assert_eq!(decode(&id).unwrap(), ("Firm".to_owned(), 42));
        assert!(decode_as(&id, "Cluster").is_err());
        assert!(decode(&ID("not base64!".into())).is_err());
    }
}
