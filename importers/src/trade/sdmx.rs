//! (being written)

use hub_plugin_sdk::Importer;

/// The importers of this module.
#[must_use]
pub fn importers() -> Vec<Box<dyn Importer>> {
    Vec::new()
}
