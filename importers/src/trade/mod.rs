//! Trade statistics: UN Comtrade, SDMX (WITS among others), the Pakistan Bureau of
//! Statistics.

pub mod comtrade;
pub mod pbs;
pub mod sdmx;
