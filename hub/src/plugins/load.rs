//! Loading a plugin library into this process: the one place of the hub with unsafe code.
//!
//! Used by the `hub plugin-host` child (process isolation) and by the hub itself when
//! `plugins.isolation = "in-process"`. A library is loaded once and never unloaded:
//! unloading runs its destructors and leaves dangling thread-local destructors and
//! function pointers behind, which is the classic way for plugin hosts to crash at exit.

#![allow(unsafe_code)]

use std::path::Path;

use hub_plugin_sdk::abi::{ENTRY_SYMBOL, EntryFn, PluginTable};

use super::wire::Refusal;

/// Loads the library at `path` and checks its table (ABI version, size, functions)
/// before any of its functions is called. The library stays loaded until the process
/// exits.
pub fn load(path: &Path) -> Result<PluginTable, Refusal> {
    // SAFETY: loading runs the library's initialisers, which is what a plugin is trusted
    // with in this process; the process mode runs this in a child made for it.
    let library = unsafe { libloading::Library::new(path) }
        .map_err(|e| Refusal::new("load", format!("the library does not load: {e}")))?;
    // Never unloaded: see the module docs.
    let library: &'static libloading::Library = Box::leak(Box::new(library));
    // SAFETY: the symbol is looked up by its ABI name; its type is the ABI's entry type.
    let entry = unsafe { library.get::<EntryFn>(ENTRY_SYMBOL.as_bytes()) }.map_err(|_| {
        Refusal::new(
            "symbol",
            format!(
                "the library exports no {ENTRY_SYMBOL} symbol; is it a hub importer plugin \
                 built with hub_plugin_sdk::export_importer!?"
            ),
        )
    })?;
    // SAFETY: the entry function takes nothing and returns the library's static table,
    // which lives as long as the (never unloaded) library.
    let table = unsafe { entry() };
    // SAFETY: as above; `from_raw` reads the header before the rest of the table.
    unsafe { PluginTable::from_raw(table) }
        .map_err(|refusal| Refusal::new(refusal.check(), refusal.to_string()))
}
