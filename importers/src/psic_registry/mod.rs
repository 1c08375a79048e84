//! Registries of the Punjab Small Industries Corporation (source `psic-punjab`).

use hub_plugin_sdk::Importer;

/// The registry importers.
#[must_use]
pub fn importers() -> Vec<Box<dyn Importer>> {
    Vec::new()
}
