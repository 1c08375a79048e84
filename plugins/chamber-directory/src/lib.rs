//! Importer plugin `chamber-directory`: member directories of chambers of commerce and
//! industry, in JSON or XML, as firms with their NTN, membership number and cluster.
//!
//! Chambers such as the Sialkot Chamber of Commerce & Industry (SCCI) or the Lahore
//! Chamber of Commerce & Industry (LCCI) publish their member directories as lists of
//! firms: membership number, name, NTN, trade group, place and contacts. This plugin reads
//! such a directory and emits each member as a firm and, when its sector and district make
//! up one of the hub's clusters, its membership of the cluster.
//!
//! It is also the example of a plugin: a `cdylib` depending on `hub-plugin-sdk` only (and
//! its parsers), implementing [`Importer`] and exported with one line,
//! [`hub_plugin_sdk::export_importer!`].
//!
//! # The format
//!
//! **JSON**: one object with the directory's fields and a `members` list of objects.
//!
//! ```json
//! {
//!   "chamber": "Sialkot Chamber of Commerce & Industry",
//!   "chamber_code": "SCCI",
//!   "published": "2024-03-01",
//!   "members": [
//!     {"membership_no": "SCCI-01234", "name": "Al-Noor Surgical Works", "ntn": "1234567-8",
//!      "sector": "Surgical Instruments", "district": "Sialkot", "tehsil": "Sialkot",
//!      "address": "Small Industrial Estate, Sialkot", "phone": "+92 52 1234567",
//!      "email": "info@alnoor.example", "member_since": "2005-07-01", "employees": 45,
//!      "status": "active", "exporter": true}
//!   ]
//! }
//! ```
//!
//! Values may be strings, numbers or booleans (`"employees": "45"` and `45` are the same);
//! `null` is no value; a list or an object where a field's value should be is a row error
//! (required fields) or warning (the others).
//!
//! **XML**: a `<directory>` root whose attributes are the directory's fields, and a
//! `<member>` element per member whose attribute `no` is the membership number and whose
//! child elements are the other fields, named as the JSON keys:
//!
//! ```xml
//! <?xml version="1.0" encoding="UTF-8"?>
//! <directory chamber="Sialkot Chamber of Commerce &amp; Industry" chamber_code="SCCI" published="2024-03-01">
//!   <member no="SCCI-01234">
//!     <name>Al-Noor Surgical Works</name>
//!     <ntn>1234567-8</ntn>
//!     <sector>Surgical Instruments</sector>
//!     <district>Sialkot</district>
//!     <tehsil>Sialkot</tehsil>
//!     <address>Small Industrial Estate, Sialkot</address>
//!     <phone>+92 52 1234567</phone>
//!     <email>info@alnoor.example</email>
//!     <member_since>2005-07-01</member_since>
//!     <employees>45</employees>
//!     <status>active</status>
//!     <exporter>true</exporter>
//!   </member>
//! </directory>
//! ```
//!
//! Any field may be given as an attribute of `<member>` or as a child element (the
//! membership number as `<membership_no>` too); the members may be wrapped in one
//! `<members>` element; other elements under the root are skipped and logged. The file must
//! be UTF-8. See the [`xml`] module for the details.
//!
//! **Names.** Keys, element and attribute names are compared ignoring case, with spaces,
//! hyphens and dots read as underscores (`Membership No.` is `membership_no`). The
//! accepted names (**bold**: required):
//!
//! | field | also accepted as |
//! |---|---|
//! | **`membership_no`** | `membership_number`, `member_no`, `member_number`, `membership_id`, `no` |
//! | **`name`** | `firm_name`, `company_name`, `business_name`, `firm`, `company` |
//! | `ntn` | `ntn_no`, `ntn_number`, `national_tax_number` |
//! | `sector` | `trade_group`, `business_sector`, `industry` |
//! | `district` | `city` |
//! | `tehsil` | `tahsil` |
//! | `address` | `postal_address`, `office_address`, `business_address` |
//! | `phone` | `phone_no`, `telephone`, `tel`, `contact_no` |
//! | `email` | `e_mail`, `email_address` |
//! | `member_since` | `membership_date`, `date_of_membership`, `joined_on`, `joined` |
//! | `employees` | `employees_total`, `no_of_employees`, `number_of_employees`, `workers` |
//! | `status` | `membership_status` |
//! | `exporter` | `is_exporter` |
//! | directory: `chamber` | `chamber_name` |
//! | directory: `chamber_code` | `code` |
//! | directory: `published` | `published_on`, `publication_date`, `as_of` |
//! | directory: `members` (JSON) | — |
//!
//! When a member gives a field under two names, the first value read is used. Other keys
//! are not imported (each is named once in the log, never with its values).
//!
//! # What a member gives
//!
//! One member is one row: the row of its records and errors is its 1-based position among
//! the directory's members, in both forms (so a directory gives the same records as JSON
//! and as XML), and the file is the input's name as the user knows it; there is no sheet.
//!
//! 1. An [`Organisation`] of kind firm keyed by the membership number (trimmed, spacing
//!    collapsed, upper case, so that later directories find it again): the name,
//!    district, tehsil and address as written (the hub matches district and tehsil against
//!    its admin areas), the phone and e-mail as [`Personal`] values, `employees` as
//!    `employees_total`, the status (below), and `observed_on` = the directory's
//!    publication date. Identifiers: the NTN as written under `PK-NTN` (the hub validates
//!    it) and the membership number under `chamber-membership`, qualified with the
//!    chamber code (`SCCI/01234`; a number that already starts with the code and a
//!    separator, `SCCI-01234`, is kept as written), because membership numbers are unique
//!    only within one chamber. Attributes (never personal): `sector`, `membership_status`
//!    (the status word as written), `exporter` (a boolean) and `member_since`
//!    (`YYYY-MM-DD`).
//! 2. When the member's sector and district have a cluster (below): a
//!    [`ClusterMembership`] keyed `{membership number}/{cluster slug}`, of the
//!    organisation just emitted, valid from `member_since`. A dated membership is what the
//!    SDK's cluster membership record is for, rather than the undated
//!    [`Organisation::clusters`]; the chamber's membership date is the best date the
//!    directory gives of the firm's presence in the cluster. It is emitted (undated) also
//!    for a member without `member_since`, so that its key does not depend on the date.
//!
//! # Decisions
//!
//! - **Row errors and warnings.** A member without membership number or name gives no
//!   records and a `missing_required` row error naming the field. Values that do not
//!   convert (`employees` that is not a whole number, a `member_since` that is not a date,
//!   an `exporter` that is not yes/no, a `status` outside the vocabulary) are warnings:
//!   the member is imported without that value. A member with an unknown sector, or
//!   without sector or district, simply has no cluster (the closing log line counts them
//!   and lists the sector and district pairs without a cluster). Messages name fields,
//!   never values.
//! - **Dates** are read as `YYYY-MM-DD` (a time after it is ignored), `YYYY/MM/DD` or day
//!   first `DD/MM/YYYY`, `DD-MM-YYYY`, `DD.MM.YYYY`.
//! - **Status** is the membership status. `active`, `current`, `regular` give active;
//!   `inactive`, `dormant`, `non-functional` inactive; `closed`, `ceased`, `wound up`
//!   closed; `unknown`, `n/a` unknown. Words about the membership only (`lapsed`,
//!   `expired`, `suspended`, `cancelled`, `defaulter`, `resigned`, `terminated`,
//!   `struck off`, `not renewed`) say nothing of whether the firm operates and give no
//!   status. A word of the vocabulary is kept as written in the attribute
//!   `membership_status`; another word is a warning and is not kept (free text in a status
//!   column may say more than a status).
//! - **Chamber code.** From the directory (`chamber_code`) or the option of that name,
//!   which wins; a directory without either is refused, since its membership numbers
//!   could not be told from another chamber's.
//! - **No default source.** The importer reads the directories of many chambers, each a
//!   source of its own (`scci-directory`, `lcci-directory`), so the user names the source;
//!   the manifest's `default_source` is `None`.
//! - **Files.** The format is told by the content (`{` or `[` is JSON, `<` is XML), else by
//!   the extension. A file that does not parse is refused with the line and column of the
//!   problem and nothing of its content; JSON without a `members` list and XML whose root
//!   is not `<directory>` are refused as "this is not a chamber member directory: …".
//! - **Memory.** XML is streamed with quick-xml's pull reader: only the current member is
//!   held. JSON is parsed whole into a value tree (without keeping the file's text), and
//!   each member is freed once converted; see the [`json`] module.
//!
//! # Clusters
//!
//! A cluster is an industry in a place, so the member's cluster is looked up by its sector
//! *and* district (compared ignoring case, punctuation and `&`/`and`). The built-in table
//! covers the four demo clusters:
//!
//! | cluster | sectors | districts |
//! |---|---|---|
//! | `sialkot-surgical` | Surgical Instruments, Surgical Goods, Surgical & Dental Instruments | Sialkot |
//! | `lahore-garments` | Garments, Readymade Garments, Textile Made-ups, Hosiery, Knitwear | Lahore |
//! | `lahore-leather-footwear` | Leather Footwear, Footwear, Leather Goods | Lahore, Sheikhupura, Kasur |
//! | `lahore-auto-parts` | Auto Parts, Automotive, Auto Parts & Accessories | Lahore, Sheikhupura, Gujranwala |
//!
//! # Options
//!
//! The user's mapping file (TOML; the hub passes it as JSON) may name the chamber code and
//! the publication date, and add to or replace the cluster table:
//!
//! ```toml
//! importer = "chamber-directory"   # read by the hub
//! source = "scci-directory"        # read by the hub: the source to write under
//! chamber_code = "SCCI"            # replaces the directory's chamber_code
//! published = 2024-03-01           # replaces the directory's published date
//! default_clusters = true          # false: start from an empty table
//!
//! [[sector_clusters]]              # added, or replacing the entry of the same pair
//! sector = "Cutlery"
//! district = "Gujranwala"
//! cluster = "gujranwala-cutlery"
//!
//! [[sector_clusters]]              # "" takes a built-in entry away
//! sector = "Leather Goods"
//! district = "Kasur"
//! cluster = ""
//! ```
//!
//! The manifest carries the JSON Schema of these options ([`options::schema`]). Unknown
//! keys and values of the wrong type are refused with the reason.
//!
//! # Example
//!
//! ```
//! use chamber_directory::ChamberDirectory;
//! use hub_plugin_sdk::serde_json::Value;
//! use hub_plugin_sdk::{Importer, Input, Item, Record};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/scci_members_2024.xml");
//! let mut importer = ChamberDirectory;
//! assert!(importer.sniff(&std::fs::read(&path)?, "scci_members_2024.xml").percent() >= 80);
//!
//! let mut stream = importer.open(Input::new(&path), &Value::Null)?;
//! let mut kinds = Vec::new();
//! while let Some(batch) = stream.next_batch(100)? {
//!     for item in batch {
//!         if let Item::Record(r) = item {
//!             if let Record::Organisation(firm) = &r.record {
//!                 if firm.source_key == "SCCI-01234" {
//!                     assert_eq!(r.source_ref.to_string(), "scci_members_2024.xml!R1");
//!                 }
//!             }
//!             kinds.push(r.record.kind().as_str());
//!         }
//!     }
//! }
//! assert_eq!(&kinds[..2], ["organisation", "cluster_membership"]);
//! # Ok(())
//! # }
//! ```

pub mod clusters;
pub mod convert;
pub mod fields;
pub mod json;
pub mod options;
pub mod sniff;
pub mod stream;
pub mod xml;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use hub_plugin_sdk::serde_json::Value;
#[cfg(doc)]
use hub_plugin_sdk::{ClusterMembership, Organisation, Personal};
use hub_plugin_sdk::{
    Confidence, ImportError, Importer, ImporterManifest, Input, IterStream, RecordKind,
    RecordStream, SourceRef,
};

use crate::convert::Converter;
use crate::fields::Header;
use crate::options::Options;
use crate::stream::{MemberSource, Members};

/// The importer's id.
pub const ID: &str = "chamber-directory";

/// The importer's name for people.
pub const NAME: &str = "Chamber of commerce member directory (JSON, XML)";

/// The importer: reads chamber member directories in JSON or XML. Holds nothing: every
/// import is independent.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChamberDirectory;

impl Importer for ChamberDirectory {
    fn manifest(&self) -> ImporterManifest {
        ImporterManifest::new(ID, NAME, env!("CARGO_PKG_VERSION"))
            .with_extensions(["json", "xml"])
            .with_mime_types(["application/json", "application/xml", "text/xml"])
            .with_emits([RecordKind::Organisation, RecordKind::ClusterMembership])
            .with_options_schema(options::schema())
    }

    fn sniff(&self, head: &[u8], file_name: &str) -> Confidence {
        let extension_fits = self.manifest().inputs.matches_file_name(file_name);
        sniff::sniff(head, extension_fits)
    }

    fn open(
        &mut self,
        input: Input,
        options: &Value,
    ) -> Result<Box<dyn RecordStream + '_>, ImportError> {
        let options = Options::parse(options)?;
        let file = if input.file_name.is_empty() {
            Input::new(&input.path).file_name
        } else {
            input.file_name.clone()
        };
        let (header, source): (Header, Box<dyn MemberSource>) =
            match Format::of(&input.path, &file)? {
                Format::Json => {
                    let (header, members) = json::open(&input.path, &file)?;
                    (header, Box::new(members))
                }
                Format::Xml => {
                    let (header, members) = xml::open(&input.path, &file)?;
                    (header, Box::new(members))
                }
            };
        let converter = Converter::new(&file, &header, &options)?;
        let opening = converter.describe(&header);
        Ok(Box::new(IterStream::new(Members::new(
            source, converter, opening,
        ))))
    }
}

/// The two forms of a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

impl Format {
    /// The form of the file at `path`, by its first character (after a byte order mark and
    /// blanks): `{` or `[` is JSON, `<` is XML; otherwise by the extension of `file`.
    fn of(path: &Path, file: &str) -> Result<Self, ImportError> {
        let mut reader = BufReader::new(File::open(path)?);
        let head = reader.fill_buf()?;
        let head = head
            .strip_prefix(b"\xEF\xBB\xBF".as_slice())
            .unwrap_or(head);
        if head.is_empty() {
            return Err(ImportError::at(SourceRef::new(file), "the file is empty"));
        }
        match head.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{' | b'[') => return Ok(Self::Json),
            Some(b'<') => return Ok(Self::Xml),
            _ => {}
        }
        let extension = Path::new(file)
            .extension()
            .and_then(|extension| extension.to_str())
            .unwrap_or_default();
        if extension.eq_ignore_ascii_case("json") {
            Ok(Self::Json)
        } else if extension.eq_ignore_ascii_case("xml") {
            Ok(Self::Xml)
        } else {
            Err(not_a_directory(file, "the file is neither JSON nor XML"))
        }
    }
}

/// The error for a file that is readable but not a directory.
pub(crate) fn not_a_directory(file: &str, reason: &str) -> ImportError {
    ImportError::at(
        SourceRef::new(file),
        format!("this is not a chamber member directory: {reason}"),
    )
}

hub_plugin_sdk::export_importer!(ChamberDirectory);

#[cfg(test)]
mod tests;
