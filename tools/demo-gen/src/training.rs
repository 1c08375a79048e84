//! CDI training events 2022-2024 and their attendance sheets, written to
//! `training_attendance_2022_2024.xlsx` (an "Events" sheet, then one sheet per event).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::Result;
use chrono::{Datelike, NaiveDate, Weekday};
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::clusters::{CLUSTERS, PSIC};
use crate::firms::Firm;
use crate::names::{Gender, People, Person};
use crate::util::{
    date_format, dmy, excel_date, header_format, new_workbook, pick, plus_days, random_date,
    weighted_index, ymd,
};

const UNIDO: &str = "UNIDO";
const TEVTA: &str = "Technical Education and Vocational Training Authority";
const SCCI: &str = "Sialkot Chamber of Commerce and Industry";
const PIM: &str = "Pakistan Institute of Management";

#[derive(Debug)]
pub struct Course {
    pub code: &'static str,
    pub title: &'static str,
    pub topic: &'static str,
    pub hours: u32,
    providers: &'static [&'static str],
    /// Cluster indices the course is offered to; empty for courses for the CDI team.
    clusters: &'static [usize],
}

const ALL: &[usize] = &[0, 1, 2, 3];

const COURSES: &[Course] = &[
    Course {
        code: "QMS-101",
        title: "ISO 13485 Quality Management for Medical Devices",
        topic: "Quality management",
        hours: 24,
        providers: &[UNIDO, SCCI],
        clusters: &[0],
    },
    Course {
        code: "REG-201",
        title: "EU MDR and CE Marking for Surgical Instruments",
        topic: "Regulatory compliance",
        hours: 16,
        providers: &[UNIDO, SCCI],
        clusters: &[0],
    },
    Course {
        code: "STR-110",
        title: "Passivation, Sterilisation and Packaging of Instruments",
        topic: "Production technology",
        hours: 16,
        providers: &[TEVTA, PSIC],
        clusters: &[0],
    },
    Course {
        code: "LEAN-101",
        title: "Lean Manufacturing and 5S",
        topic: "Productivity",
        hours: 16,
        providers: &[UNIDO, PIM],
        clusters: ALL,
    },
    Course {
        code: "EXP-201",
        title: "Export Marketing and Trade Fair Participation",
        topic: "Market access",
        hours: 12,
        providers: &[SCCI, PIM, UNIDO],
        clusters: ALL,
    },
    Course {
        code: "OSH-101",
        title: "Occupational Safety and Health at the Workplace",
        topic: "Workplace safety",
        hours: 8,
        providers: &[PSIC, TEVTA],
        clusters: ALL,
    },
    Course {
        code: "FIN-101",
        title: "Financial Management and Access to Finance for SMEs",
        topic: "Finance",
        hours: 12,
        providers: &[PIM, PSIC],
        clusters: ALL,
    },
    Course {
        code: "DIG-101",
        title: "Digital Marketing and E-commerce for SMEs",
        topic: "Market access",
        hours: 12,
        providers: &[PIM, UNIDO],
        clusters: ALL,
    },
    Course {
        code: "ENE-101",
        title: "Energy Efficiency in Small Industries",
        topic: "Resource efficiency",
        hours: 8,
        providers: &[UNIDO],
        clusters: ALL,
    },
    Course {
        code: "SOC-201",
        title: "Social Compliance and Buyer Audits",
        topic: "Compliance",
        hours: 12,
        providers: &[UNIDO, PIM],
        clusters: &[1, 2],
    },
    Course {
        code: "PAT-110",
        title: "Pattern Making and Grading",
        topic: "Production technology",
        hours: 40,
        providers: &[TEVTA],
        clusters: &[1],
    },
    Course {
        code: "SEW-101",
        title: "Industrial Sewing Machine Operation",
        topic: "Skills",
        hours: 40,
        providers: &[TEVTA],
        clusters: &[1],
    },
    Course {
        code: "FTW-110",
        title: "Footwear Design and Last Making",
        topic: "Product design",
        hours: 24,
        providers: &[TEVTA, UNIDO],
        clusters: &[2],
    },
    Course {
        code: "LTH-201",
        title: "Leather Goods Finishing and Quality Control",
        topic: "Quality management",
        hours: 16,
        providers: &[TEVTA, PSIC],
        clusters: &[2],
    },
    Course {
        code: "CNC-101",
        title: "CNC Machining Basics",
        topic: "Production technology",
        hours: 40,
        providers: &[TEVTA],
        clusters: &[3],
    },
    Course {
        code: "AUT-201",
        title: "Supplier Quality for Automotive OEMs (IATF 16949)",
        topic: "Quality management",
        hours: 24,
        providers: &[UNIDO, PIM],
        clusters: &[3],
    },
    Course {
        code: "CDM-301",
        title: "Cluster Development Methodology for Cluster Teams",
        topic: "Cluster development",
        hours: 32,
        providers: &[UNIDO],
        clusters: &[],
    },
    Course {
        code: "CDM-302",
        title: "Facilitating SME Networks and Joint Action",
        topic: "Cluster development",
        hours: 24,
        providers: &[UNIDO],
        clusters: &[],
    },
];

#[derive(Debug, Clone)]
pub struct Participant {
    pub person: Person,
    pub organisation: String,
    /// Index into the firm list; `None` for agency staff.
    pub firm: Option<usize>,
    pub survey_id: Option<String>,
    pub designation: String,
    pub attendance: u32,
    pub pre: Option<u32>,
    pub post: Option<u32>,
    pub completed: bool,
}

#[derive(Debug)]
pub struct Event {
    pub code: String,
    pub course: &'static Course,
    pub provider: &'static str,
    pub trainers: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub venue: &'static str,
    /// `None` for the events that train the CDI team itself.
    pub cluster: Option<usize>,
    pub modality: &'static str,
    pub participants: Vec<Participant>,
}

impl Event {
    pub fn year(&self) -> i32 {
        self.start.year()
    }
}

/// The PSIC and UNIDO staff of the CDI cluster team.
fn cdi_team(rng: &mut StdRng, people: &mut People) -> Vec<(Person, &'static str, &'static str)> {
    let psic_roles = [
        "Deputy Director (Clusters)",
        "Assistant Director",
        "Cluster Development Agent",
        "Cluster Development Agent",
        "Cluster Development Agent",
        "Cluster Manager",
        "Cluster Manager",
        "Cluster Development Agent",
        "Assistant Director",
        "Cluster Development Agent",
        "Cluster Development Agent",
        "Monitoring Officer",
    ];
    let unido_roles = [
        "National Project Coordinator",
        "Cluster Development Expert",
        "Cluster Development Expert",
        "Project Assistant",
        "M&E Officer",
    ];
    let mut team = Vec::new();
    for role in psic_roles {
        let g = if rng.random_bool(0.3) {
            Gender::Female
        } else {
            Gender::Male
        };
        let d = *pick(rng, &["Lahore", "Lahore", "Sialkot", "Gujranwala"]);
        team.push((people.person(rng, g, d), PSIC, role));
    }
    for role in unido_roles {
        let g = if rng.random_bool(0.4) {
            Gender::Female
        } else {
            Gender::Male
        };
        team.push((people.person(rng, g, "Lahore"), UNIDO, role));
    }
    team
}

fn trainer_name(rng: &mut StdRng) -> String {
    let g = if rng.random_bool(0.25) {
        Gender::Female
    } else {
        Gender::Male
    };
    let name = People::name(rng, g);
    match rng.random_range(0..10) {
        0..=1 => format!("Dr. {name}"),
        2..=3 if g == Gender::Male => format!("Engr. {name}"),
        _ => name,
    }
}

fn weekday_on_or_after(mut d: NaiveDate) -> NaiveDate {
    while matches!(d.weekday(), Weekday::Fri | Weekday::Sun) {
        d = plus_days(d, 1);
    }
    d
}

struct Attendees<'a> {
    firms: &'a [Firm],
    /// People each firm has sent before.
    sent: HashMap<usize, Vec<(Person, String)>>,
    /// Events attended per CNIC (at most two).
    count: HashMap<String, u32>,
}

impl Attendees<'_> {
    fn pick_from_firm(
        &mut self,
        rng: &mut StdRng,
        people: &mut People,
        fi: usize,
        course: &Course,
        here: &HashSet<String>,
    ) -> (Person, String) {
        let f = &self.firms[fi];
        let c = f.cluster_def().expect("cluster firm");
        let fresh = |p: &Person, count: &HashMap<String, u32>| {
            !here.contains(&p.cnic) && count.get(&p.cnic).copied().unwrap_or(0) < 2
        };
        let returning: Vec<&(Person, String)> = self
            .sent
            .get(&fi)
            .map(|v| v.iter().filter(|(p, _)| fresh(p, &self.count)).collect())
            .unwrap_or_default();
        if !returning.is_empty() && rng.random_bool(0.35) {
            return (*pick(rng, &returning)).clone();
        }
        let contact_sent = self
            .sent
            .get(&fi)
            .is_some_and(|v| v.iter().any(|(p, _)| p.cnic == f.contact.cnic));
        if !contact_sent && fresh(&f.contact, &self.count) && rng.random_bool(0.3) {
            let pair = (f.contact.clone(), f.contact_role.to_string());
            self.sent.entry(fi).or_default().push(pair.clone());
            return pair;
        }
        let p_female = match (course.code, f.cluster) {
            (_, _) if f.female == 0 => 0.0,
            ("SEW-101", _) => 0.7,
            (_, Some(1)) => 0.45,
            (_, Some(2)) => 0.15,
            (_, Some(0)) => 0.08,
            _ => 0.03,
        };
        let g = if rng.random_bool(p_female) {
            Gender::Female
        } else {
            Gender::Male
        };
        let person = people.person(rng, g, f.district);
        let pair = (person, pick(rng, c.staff_roles).to_string());
        self.sent.entry(fi).or_default().push(pair.clone());
        pair
    }
}

fn scores(rng: &mut StdRng, online: bool) -> (u32, Option<u32>, Option<u32>) {
    let attendance = if rng.random_bool(if online { 0.55 } else { 0.7 }) {
        100
    } else {
        *pick(rng, &[40, 50, 60, 67, 75, 80, 83, 90])
    };
    let pre = (!rng.random_bool(0.05)).then(|| rng.random_range(20..=70));
    let post = match pre {
        Some(p) if attendance >= 60 || rng.random_bool(0.5) => {
            Some((p + rng.random_range(5..=35)).min(100))
        }
        _ => None,
    };
    (attendance, pre, post)
}

pub fn generate(rng: &mut StdRng, people: &mut People, firms: &[Firm]) -> Vec<Event> {
    let team = cdi_team(rng, people);
    // 24 cluster events, 8 a year: 8 surgical, 6 garments, 5 leather and
    // footwear, 5 auto parts over the three years.
    const PLAN: [(i32, [usize; 4]); 3] = [
        (2022, [3, 2, 2, 1]),
        (2023, [3, 2, 1, 2]),
        (2024, [2, 2, 2, 2]),
    ];
    let slots: Vec<(i32, usize)> = PLAN
        .iter()
        .flat_map(|&(year, counts)| {
            counts
                .into_iter()
                .enumerate()
                .flat_map(move |(ci, n)| std::iter::repeat_n((year, ci), n))
        })
        .collect();
    let mut drafts: Vec<(NaiveDate, Option<usize>, &'static Course)> = Vec::new();
    let mut given: HashSet<(i32, usize, &str)> = HashSet::new();
    for &(year, ci) in &slots {
        let course = loop {
            let options: Vec<&'static Course> = COURSES
                .iter()
                .filter(|c| c.clusters.contains(&ci))
                .collect();
            let w: Vec<f64> = options
                .iter()
                .map(|c| if c.clusters.len() == 1 { 2.0 } else { 1.0 })
                .collect();
            let c = options[weighted_index(rng, &w)];
            if given.insert((year, ci, c.code)) {
                break c;
            }
        };
        let start = weekday_on_or_after(random_date(rng, ymd(year, 1, 10), ymd(year, 12, 5)));
        drafts.push((start, Some(ci), course));
    }
    for (year, code) in [(2022, "CDM-301"), (2023, "CDM-302")] {
        let course = COURSES
            .iter()
            .find(|c| c.code == code)
            .expect("staff course");
        let start = weekday_on_or_after(random_date(rng, ymd(year, 2, 1), ymd(year, 4, 30)));
        drafts.push((start, None, course));
    }
    drafts.sort_by_key(|d| (d.0, d.2.code));

    let mut attendees = Attendees {
        firms,
        sent: HashMap::new(),
        count: HashMap::new(),
    };
    let mut events = Vec::new();
    let mut per_year: HashMap<i32, u32> = HashMap::new();
    for (start, cluster, course) in drafts {
        let n = per_year.entry(start.year()).or_insert(0);
        *n += 1;
        let code = format!("CDI-TR-{}-{:02}", start.year(), n);
        let modality = if course.hours >= 40 || cluster.is_none() {
            "in-person"
        } else {
            *pick(
                rng,
                &[
                    "in-person",
                    "in-person",
                    "in-person",
                    "in-person",
                    "online",
                    "blended",
                ],
            )
        };
        let days = if modality == "in-person" {
            course.hours.div_ceil(8)
        } else {
            course.hours.div_ceil(4)
        };
        let mut end = start;
        for _ in 1..days {
            end = weekday_on_or_after(plus_days(end, 1));
        }
        let end = end.min(ymd(start.year(), 12, 31));
        let providers: Vec<&'static str> = course
            .providers
            .iter()
            .copied()
            .filter(|p| *p != SCCI || cluster == Some(0))
            .collect();
        let provider = *pick(rng, &providers);
        let trainers: Vec<String> = (0..rng.random_range(1..=2))
            .map(|_| trainer_name(rng))
            .collect();
        let venue = match cluster {
            Some(0) => "Sialkot",
            Some(3) if rng.random_bool(0.3) => "Gujranwala",
            _ => "Lahore",
        };
        let mut here: HashSet<String> = HashSet::new();
        let mut participants = Vec::new();
        let online = modality == "online";
        match cluster {
            Some(ci) => {
                let pool: Vec<usize> = firms
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| f.cluster == Some(ci) && f.survey_id.is_some())
                    .map(|(i, _)| i)
                    .collect();
                let w: Vec<f64> = pool
                    .iter()
                    .map(|&i| (firms[i].employees as f64).sqrt())
                    .collect();
                let size = rng.random_range(10..=25);
                let mut per_firm: HashMap<usize, u32> = HashMap::new();
                while participants.len() < size {
                    let fi = pool[weighted_index(rng, &w)];
                    let sent = per_firm.entry(fi).or_insert(0);
                    if *sent >= 3 {
                        continue;
                    }
                    *sent += 1;
                    let (person, designation) =
                        attendees.pick_from_firm(rng, people, fi, course, &here);
                    let (attendance, pre, post) = scores(rng, online);
                    here.insert(person.cnic.clone());
                    participants.push(Participant {
                        organisation: firm_as_written(rng, &firms[fi]),
                        person,
                        firm: Some(fi),
                        survey_id: firms[fi].survey_id.clone(),
                        designation,
                        attendance,
                        pre,
                        post,
                        completed: false,
                    });
                }
            }
            None => {
                let mut members: Vec<&(Person, &str, &str)> = team
                    .iter()
                    .filter(|(p, _, _)| attendees.count.get(&p.cnic).copied().unwrap_or(0) < 2)
                    .collect();
                members.shuffle(rng);
                members.truncate(rng.random_range(12..=15));
                for (person, org, role) in members {
                    let (attendance, pre, post) = scores(rng, false);
                    here.insert(person.cnic.clone());
                    participants.push(Participant {
                        person: person.clone(),
                        organisation: org.to_string(),
                        firm: None,
                        survey_id: None,
                        designation: role.to_string(),
                        attendance,
                        pre,
                        post,
                        completed: false,
                    });
                }
            }
        }
        for p in &mut participants {
            p.completed = p.attendance >= 75 && p.post.is_some_and(|s| s >= 40);
            *attendees.count.entry(p.person.cnic.clone()).or_insert(0) += 1;
        }
        events.push(Event {
            code,
            course,
            provider,
            trainers: trainers.join("; "),
            start,
            end,
            venue,
            cluster,
            modality,
            participants,
        });
    }
    events
}

/// Attendance sheets mostly copy the survey name, sometimes without the legal suffix.
fn firm_as_written(rng: &mut StdRng, f: &Firm) -> String {
    if rng.random_bool(0.2) {
        f.base_name.clone()
    } else {
        f.survey_name.clone()
    }
}

pub fn write(rng: &mut StdRng, out: &Path, events: &[Event]) -> Result<()> {
    let mut wb = new_workbook("CDI training attendance 2022-2024")?;
    let bold = header_format();
    let date = date_format();
    let ws = wb.add_worksheet();
    ws.set_name("Events")?;
    let headers = [
        "Event Code",
        "Course Code",
        "Course Title",
        "Topic",
        "Hours",
        "Provider",
        "Trainers",
        "Start Date",
        "End Date",
        "Venue District",
        "Cluster",
        "Modality",
    ];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (c, w) in [16, 11, 52, 22, 7, 50, 44, 12, 12, 14, 24, 11]
        .iter()
        .enumerate()
    {
        ws.set_column_width(c as u16, *w)?;
    }
    for (r, e) in events.iter().enumerate() {
        let row = r as u32 + 1;
        ws.write_string(row, 0, &e.code)?;
        ws.write_string(row, 1, e.course.code)?;
        ws.write_string(row, 2, e.course.title)?;
        ws.write_string(row, 3, e.course.topic)?;
        ws.write_number(row, 4, e.course.hours as f64)?;
        ws.write_string(row, 5, e.provider)?;
        ws.write_string(row, 6, &e.trainers)?;
        ws.write_datetime_with_format(row, 7, excel_date(e.start)?, &date)?;
        ws.write_datetime_with_format(row, 8, excel_date(e.end)?, &date)?;
        ws.write_string(row, 9, e.venue)?;
        if let Some(ci) = e.cluster {
            ws.write_string(row, 10, CLUSTERS[ci].slug)?;
        }
        ws.write_string(row, 11, e.modality)?;
    }
    let headers = [
        "S#",
        "Participant Name",
        "Gender",
        "CNIC",
        "Mobile",
        "Firm / Organisation",
        "Survey ID",
        "Designation",
        "Attendance %",
        "Pre-test",
        "Post-test",
        "Certificate No.",
    ];
    for e in events {
        let ws = wb.add_worksheet();
        ws.set_name(&e.code)?;
        ws.write_string_with_format(
            0,
            0,
            format!("Attendance Sheet - {}", e.course.title),
            &bold,
        )?;
        ws.write_string(
            1,
            0,
            format!(
                "Venue: {}   Dates: {} to {}",
                e.venue,
                dmy(e.start),
                dmy(e.end)
            ),
        )?;
        for (c, h) in headers.iter().enumerate() {
            ws.write_string_with_format(3, c as u16, *h, &bold)?;
        }
        for (c, w) in [5, 28, 8, 17, 13, 44, 11, 26, 12, 9, 9, 22]
            .iter()
            .enumerate()
        {
            ws.set_column_width(c as u16, *w)?;
        }
        let mut cert = 0;
        for (k, p) in e.participants.iter().enumerate() {
            let row = 4 + k as u32;
            ws.write_number(row, 0, (k + 1) as f64)?;
            ws.write_string(row, 1, &p.person.name)?;
            let g = if rng.random_bool(0.06) {
                p.person.gender.letter()
            } else {
                p.person.gender.word()
            };
            ws.write_string(row, 2, g)?;
            ws.write_string(row, 3, &p.person.cnic)?;
            ws.write_string(row, 4, &p.person.mobile)?;
            ws.write_string(row, 5, &p.organisation)?;
            if let Some(id) = &p.survey_id {
                ws.write_string(row, 6, id)?;
            }
            ws.write_string(row, 7, &p.designation)?;
            ws.write_number(row, 8, p.attendance as f64)?;
            if let Some(s) = p.pre {
                ws.write_number(row, 9, s as f64)?;
            }
            if let Some(s) = p.post {
                ws.write_number(row, 10, s as f64)?;
            }
            if p.completed {
                cert += 1;
                ws.write_string(row, 11, format!("{}/{cert:03}", e.code))?;
            }
        }
        ws.set_freeze_panes(4, 0)?;
    }
    wb.save(out.join("training_attendance_2022_2024.xlsx"))?;
    Ok(())
}
