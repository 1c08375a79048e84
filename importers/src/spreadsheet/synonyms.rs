//! The header synonyms: which column headers feed which field when no mapping names them.
//!
//! [`SYNONYMS`] is the one table. Headers are compared folded ([`fold`]: case, spacing and
//! punctuation ignored), so `NTN No.`, `ntn no` and `NTN  No:` are one synonym. A header
//! may stand for different fields in different targets (`Cluster` is `firm.cluster` in a
//! firm list and `value.cluster` in a results framework; `Mobile` is `person.phone` on an
//! attendance sheet and `firm.phone` in a firm list): for a target, a header takes the
//! **first** entry of the table whose field the target has and whose headers include it.
//! Each field is fed by one column at most (the leftmost), and each column feeds one field.

use super::header::Header;
use super::targets::{Target, fold};

/// The synonym table: a field and the headers that feed it, in order of preference.
///
/// Entries are tried in this order, so an entry placed earlier wins a header for the
/// targets that have its field (the `person.*` contact fields before the `firm.*` ones, so
/// that an attendance sheet's `Mobile` is the participant's).
pub const SYNONYMS: &[(&str, &[&str])] = &[
    // Firms: identity.
    (
        "firm.source_key",
        &["Survey ID", "Firm ID", "Firm Code", "Record ID"],
    ),
    (
        "firm.name",
        &[
            "Name of Unit",
            "Unit Name",
            "Firm Name",
            "Firm",
            "Company",
            "Company Name",
            "Name of Firm",
            "Name of Company",
            "Enterprise",
            "Enterprise Name",
            "Business Name",
            "Member Firm",
            "Firm / Organisation",
            "Firm / Organization",
            "Organization / Unit",
            "Organisation / Unit",
            "Unit / Organization",
            "Name of Organization",
            "Organisation",
            "Organization",
            "Name of Organisation",
        ],
    ),
    (
        "firm.kind",
        &[
            "Organisation Type",
            "Organization Type",
            "Type of Organisation",
        ],
    ),
    (
        "firm.legal_form",
        &["Legal Form", "Legal Status", "Form of Business"],
    ),
    (
        "firm.ntn",
        &["NTN", "NTN No.", "NTN Number", "National Tax Number"],
    ),
    (
        "firm.secp",
        &[
            "SECP Reg. No.",
            "SECP No",
            "SECP Registration No",
            "SECP Number",
            "Company Registration No",
            "Incorporation No",
        ],
    ),
    (
        "firm.strn",
        &[
            "STRN",
            "STRN No",
            "Sales Tax Registration No",
            "Sales Tax No",
        ],
    ),
    (
        "firm.registry_unit",
        &[
            "Registry Unit No.",
            "Unit No",
            "PSIC Unit No",
            "Registry Unit Number",
            "Unit Number",
        ],
    ),
    (
        "firm.chamber_membership",
        &[
            "Chamber Membership No",
            "Chamber Membership Number",
            "Membership No",
        ],
    ),
    // Firms: place and description.
    ("firm.district", &["District"]),
    ("firm.tehsil", &["Tehsil"]),
    (
        "firm.address",
        &[
            "Address",
            "Postal Address",
            "Business Address",
            "Unit Address",
        ],
    ),
    (
        "firm.website",
        &["Website", "Web Site", "Web Address", "URL", "Homepage"],
    ),
    (
        "firm.industry_code",
        &[
            "Industry Code",
            "ISIC Code",
            "PSIC Code",
            "Industry Classification Code",
        ],
    ),
    (
        "firm.founded_year",
        &[
            "Year Established",
            "Established",
            "Founded",
            "Year of Establishment",
            "Year Founded",
        ],
    ),
    (
        "firm.registered_on",
        &["Registration Date", "Date of Registration", "Registered On"],
    ),
    (
        "firm.status",
        &["Status", "Unit Status", "Operational Status"],
    ),
    (
        "firm.observed_on",
        &["Survey Date", "Date of Survey", "Observed On"],
    ),
    ("firm.cluster", &["Cluster", "Cluster Slug"]),
    (
        "firm.employees_total",
        &[
            "Total Employees",
            "Employees",
            "No. of Employees",
            "Number of Employees",
            "Workers",
            "Total Workers",
            "Employment",
            "Employees / Total",
        ],
    ),
    (
        "firm.employees_female",
        &[
            "Female Employees",
            "Women Employees",
            "Female Workers",
            "No. of Female Employees",
            "Employees / Female",
        ],
    ),
    // Firms: observations for a period.
    ("observation.period", &["Year", "Period"]),
    (
        "observation.turnover_pkr",
        &[
            "Annual Turnover (PKR)",
            "Turnover",
            "Annual Turnover",
            "Turnover (PKR)",
            "Turnover (Rs.)",
            "Annual Sales (PKR)",
        ],
    ),
    (
        "observation.exports_usd",
        &[
            "Exports (USD)",
            "Exports",
            "Annual Exports (USD)",
            "Export Sales (USD)",
        ],
    ),
    (
        "observation.certifications",
        &["Certifications", "Certification", "Certificates Held"],
    ),
    // Firms: the contact person.
    (
        "contact.name",
        &["Contact Person", "Contact Name", "Name of Contact Person"],
    ),
    ("contact.cnic", &["Contact CNIC", "Contact Person CNIC"]),
    (
        "contact.title",
        &[
            "Contact Designation",
            "Contact Title",
            "Designation of Contact",
        ],
    ),
    ("contact.sex", &["Contact Gender", "Contact Sex"]),
    ("contact.email", &["Contact Email", "Contact E-mail"]),
    (
        "contact.phone",
        &["Contact Phone", "Contact Mobile", "Contact No"],
    ),
    // Participants.
    (
        "participation.serial",
        &["S#", "Sr. No.", "S. No.", "Serial", "Serial No.", "No."],
    ),
    (
        "person.name",
        &[
            "Participant Name",
            "Name of Participant",
            "Participant",
            "Trainee",
            "Trainee Name",
            "Name of Trainee",
        ],
    ),
    ("person.sex", &["Gender", "Sex"]),
    (
        "person.cnic",
        &[
            "CNIC",
            "CNIC No.",
            "CNIC Number",
            "National Identity Card No",
        ],
    ),
    (
        "person.phone",
        &[
            "Mobile",
            "Phone",
            "Cell",
            "Mobile No.",
            "Phone No.",
            "Cell No.",
            "Contact No.",
        ],
    ),
    ("person.email", &["Email", "E-mail", "Email Address"]),
    (
        "participation.role",
        &["Designation", "Position", "Job Title", "Role in Firm"],
    ),
    (
        "participation.attendance_pct",
        &[
            "Attendance %",
            "Attendance",
            "Attendance (%)",
            "Attendance Percent",
        ],
    ),
    (
        "participation.pre_score",
        &["Pre-test", "Pre-test Score", "Pre Score", "Pretest"],
    ),
    (
        "participation.post_score",
        &["Post-test", "Post-test Score", "Post Score", "Posttest"],
    ),
    (
        "participation.certificate_number",
        &["Certificate No.", "Certificate Number", "Certificate"],
    ),
    (
        "participation.completed",
        &["Completed", "Completion", "Course Completed"],
    ),
    // Firm phone and e-mail, after the participant's.
    (
        "firm.phone",
        &["Phone", "Mobile", "Cell", "Phone No.", "Telephone", "Tel"],
    ),
    ("firm.email", &["Email", "E-mail", "Email Address"]),
    // Training events.
    ("event.code", &["Event Code", "Event ID", "Event No."]),
    (
        "event.source_key",
        &["Event Code", "Event ID", "Event No.", "Event"],
    ),
    (
        "event.title",
        &["Event Title", "Event Name", "Training Title", "Title"],
    ),
    ("course.code", &["Course Code"]),
    ("course.title", &["Course Title", "Course", "Course Name"]),
    ("course.topic", &["Topic", "Subject", "Theme"]),
    (
        "course.hours",
        &[
            "Hours",
            "Duration (hours)",
            "Contact Hours",
            "Training Hours",
        ],
    ),
    (
        "event.provider",
        &[
            "Provider",
            "Training Provider",
            "Organised By",
            "Organized By",
        ],
    ),
    (
        "event.trainers",
        &["Trainers", "Trainer", "Resource Persons", "Facilitators"],
    ),
    ("event.start_date", &["Start Date", "Date From", "From"]),
    ("event.end_date", &["End Date", "Date To", "To"]),
    ("event.venue_district", &["Venue District"]),
    ("event.venue", &["Venue", "Location"]),
    ("event.cluster", &["Cluster"]),
    ("event.modality", &["Modality", "Mode", "Delivery Mode"]),
    // Indicators.
    (
        "indicator.code",
        &["Indicator Code", "Indicator ID", "Code"],
    ),
    ("indicator.name", &["Indicator", "Indicator Name"]),
    ("indicator.unit", &["Unit", "Unit of Measure"]),
    ("value.cluster", &["Cluster"]),
    ("value.programme", &["Programme", "Program"]),
    ("value.area", &["Area", "District", "Province"]),
    ("value.scope", &["Scope", "Level"]),
    ("value.period", &["Year", "Period"]),
    ("value.breakdown", &["Breakdown", "Disaggregation"]),
    (
        "value.breakdown_value",
        &["Breakdown Value", "Disaggregation Value"],
    ),
    ("value.note", &["Note", "Notes", "Remarks", "Comment"]),
    ("value.baseline", &["Baseline"]),
    ("value.target", &["Target"]),
    ("value.actual", &["Actual", "Achieved", "Achievement"]),
    ("value.value", &["Value"]),
    ("value.value_type", &["Value Type"]),
    // Networks and their members.
    (
        "network.name",
        &["Network", "Network Name", "Consortium", "Name of Network"],
    ),
    ("network.kind", &["Type", "Network Type", "Kind of Network"]),
    ("network.cluster", &["Cluster"]),
    ("network.programme", &["Programme", "Program"]),
    (
        "network.formed_on",
        &[
            "Formed On",
            "Date Formed",
            "Formation Date",
            "Date of Formation",
        ],
    ),
    ("network.dissolved_on", &["Dissolved On", "Date Dissolved"]),
    ("network.description", &["Description"]),
    ("member.role", &["Role", "Member Role"]),
    (
        "member.joined_on",
        &["Joined On", "Date Joined", "Joining Date"],
    ),
    ("member.left_on", &["Left On", "Date Left"]),
    // Programme definitions: agencies, programmes, clusters.
    (
        "agency.name",
        &["Agency", "Agency Name", "Organisation", "Organization"],
    ),
    ("agency.kind", &["Kind", "Type", "Role"]),
    (
        "agency.iati",
        &[
            "IATI",
            "IATI ID",
            "IATI Identifier",
            "IATI Organisation Identifier",
        ],
    ),
    ("agency.website", &["Website", "Web Site", "URL"]),
    ("agency.district", &["District"]),
    ("agency.address", &["Address"]),
    (
        "programme.code",
        &["Code", "Programme Code", "Program Code"],
    ),
    (
        "programme.name",
        &[
            "Programme",
            "Program",
            "Programme Name",
            "Program Name",
            "Title",
        ],
    ),
    ("programme.description", &["Description"]),
    (
        "programme.start_date",
        &["Start Date", "Start", "From", "Starts"],
    ),
    ("programme.end_date", &["End Date", "End", "To", "Ends"]),
    (
        "programme.lead",
        &[
            "Lead",
            "Lead Agency",
            "Implementing Agency",
            "Executing Agency",
        ],
    ),
    (
        "programme.technical_assistance",
        &[
            "Technical Assistance",
            "TA",
            "Technical Assistance Agency",
            "TA Agency",
        ],
    ),
    (
        "programme.funder",
        &["Funder", "Donor", "Financed By", "Funding Agency"],
    ),
    (
        "cluster.slug",
        &["Slug", "Cluster Slug", "Code", "Cluster Code"],
    ),
    ("cluster.name", &["Cluster", "Cluster Name"]),
    ("cluster.sector", &["Sector", "Industry"]),
    (
        "cluster.programme",
        &["Programme", "Program", "Programme Code", "Program Code"],
    ),
    ("cluster.description", &["Description"]),
    ("cluster.districts", &["Districts", "District"]),
    (
        "cluster.isic_classes",
        &[
            "ISIC",
            "ISIC Classes",
            "ISIC Rev.4",
            "ISIC Codes",
            "Industry Codes",
        ],
    ),
    (
        "cluster.hs_revision",
        &["HS Revision", "HS Version", "HS Nomenclature"],
    ),
    (
        "cluster.hs_basket",
        &["HS Basket", "HS Codes", "HS Products", "Products", "Basket"],
    ),
];

/// The field a header feeds in `target`, by the synonym table.
#[must_use]
pub fn field_for_header(target: Target, header: &str) -> Option<&'static str> {
    let key = fold(header);
    if key.is_empty() {
        return None;
    }
    // A plain `Name` column names what the sheet lists: the firms of a firm list or a
    // member list, the persons of an attendance sheet, the networks of a network list.
    if key == fold("Name") {
        return match target {
            Target::Firms | Target::NetworkMembers => Some("firm.name"),
            Target::Participants => Some("person.name"),
            Target::Networks => Some("network.name"),
            Target::Agencies => Some("agency.name"),
            Target::Programmes => Some("programme.name"),
            Target::Clusters => Some("cluster.name"),
            Target::TrainingEvents | Target::IndicatorValues => None,
        };
    }
    // In an attendance sheet, a column feeds the event only when its header says so
    // (`Event Title`, `Training Date`): a plain `Title`, `Location` or `Cluster` there is
    // the participant's.
    let about_event = key.starts_with("event") || key.starts_with("training");
    SYNONYMS
        .iter()
        .filter(|(field, _)| target.field(field).is_some())
        .filter(|(field, _)| {
            target != Target::Participants
                || !field.starts_with("event.")
                || *field == "event.source_key"
                || about_event
        })
        .find(|(_, headers)| headers.iter().any(|h| fold(h) == key))
        .map(|(field, _)| *field)
}

/// The headers that feed `field` (in the first entry for it), for messages.
#[must_use]
pub fn synonyms_of(field: &str) -> &'static [&'static str] {
    SYNONYMS
        .iter()
        .find(|(f, _)| *f == field)
        .map_or(&[], |(_, headers)| headers)
}

/// Maps the columns of `header` to the fields of `target` through the synonyms: pairs of
/// (0-based column, field), in column order. Each field takes the leftmost column that
/// feeds it.
#[must_use]
pub fn detect_columns(target: Target, header: &Header) -> Vec<(usize, &'static str)> {
    let mut out: Vec<(usize, &'static str)> = Vec::new();
    for column in &header.columns {
        if column.original.trim().is_empty() {
            continue;
        }
        if let Some(field) = field_for_header(target, &column.name)
            && !out.iter().any(|(_, f)| *f == field)
        {
            out.push((column.index, field));
        }
    }
    // A firm list with a contact person: its phone and e-mail columns are the contact's
    // (personal data), as in the diagnostic survey.
    if target == Target::Firms && out.iter().any(|(_, f)| *f == "contact.name") {
        for (from, to) in [
            ("firm.phone", "contact.phone"),
            ("firm.email", "contact.email"),
        ] {
            if !out.iter().any(|(_, f)| *f == to)
                && let Some(entry) = out.iter_mut().find(|(_, f)| *f == from)
            {
                entry.1 = to;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spreadsheet::targets::Target;

    #[test]
    fn every_synonym_names_a_field_of_some_target() {
        for (field, headers) in SYNONYMS {
            assert!(
                Target::ALL.iter().any(|t| t.field(field).is_some()),
                "{field}"
            );
            for header in *headers {
                assert!(!fold(header).is_empty(), "{field}: {header}");
            }
        }
    }

    #[test]
    fn headers_map_per_target() {
        let cases = [
            (Target::Firms, "Name of Unit", Some("firm.name")),
            (Target::Firms, "name", Some("firm.name")),
            (Target::Firms, "NAME", Some("firm.name")),
            (Target::Participants, "Name", Some("person.name")),
            (Target::Networks, "Name", Some("network.name")),
            (Target::TrainingEvents, "Name", None),
            (Target::Firms, "NTN No.", Some("firm.ntn")),
            (Target::Firms, "ntn number", Some("firm.ntn")),
            (Target::Firms, "National Tax Number", Some("firm.ntn")),
            (Target::Firms, "SECP Reg. No.", Some("firm.secp")),
            (Target::Firms, "company registration no", Some("firm.secp")),
            (Target::Firms, "PSIC Unit No", Some("firm.registry_unit")),
            (
                Target::Firms,
                "No. of Employees",
                Some("firm.employees_total"),
            ),
            (
                Target::Firms,
                "Women Employees",
                Some("firm.employees_female"),
            ),
            (
                Target::Firms,
                "Annual Turnover (PKR)",
                Some("observation.turnover_pkr"),
            ),
            (Target::Firms, "Year", Some("observation.period")),
            (Target::Firms, "Phone", Some("firm.phone")),
            (Target::Firms, "Cluster", Some("firm.cluster")),
            (Target::Firms, "Participant Name", None),
            (Target::Participants, "Mobile", Some("person.phone")),
            (Target::Participants, "CNIC No.", Some("person.cnic")),
            (Target::Participants, "S#", Some("participation.serial")),
            (
                Target::Participants,
                "Attendance %",
                Some("participation.attendance_pct"),
            ),
            (
                Target::Participants,
                "Pre-test",
                Some("participation.pre_score"),
            ),
            (Target::Participants, "Event Code", Some("event.source_key")),
            (
                Target::Participants,
                "Firm / Organisation",
                Some("firm.name"),
            ),
            (Target::TrainingEvents, "Event Code", Some("event.code")),
            (Target::IndicatorValues, "Year", Some("value.period")),
            (Target::IndicatorValues, "Cluster", Some("value.cluster")),
            (Target::Networks, "Type", Some("network.kind")),
            (Target::NetworkMembers, "Member Firm", Some("firm.name")),
            (Target::NetworkMembers, "Role", Some("member.role")),
            (Target::Firms, "", None),
        ];
        for (target, header, field) in cases {
            assert_eq!(
                field_for_header(target, header),
                field,
                "{target}: {header}"
            );
        }
    }
}
