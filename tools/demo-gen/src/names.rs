//! Fake people and identifiers.
//!
//! Names are random combinations of common Pakistani given names and family
//! names; CNICs, NTNs and mobile numbers are random digits in the official
//! shapes and are unique within one run. None of them belongs to a real person.

use std::collections::HashSet;

use rand::Rng;
use rand::rngs::StdRng;

use crate::util::pick;

pub const MALE_GIVEN: &[&str] = &[
    "Ahmed", "Ali", "Asif", "Bilal", "Usman", "Imran", "Kamran", "Tariq", "Naveed", "Shahid",
    "Zahid", "Khalid", "Faisal", "Adnan", "Irfan", "Waqas", "Hamza", "Hassan", "Hussain", "Umar",
    "Saad", "Fahad", "Junaid", "Nadeem", "Rizwan", "Sajid", "Shoaib", "Tahir", "Yasir", "Zubair",
    "Arshad", "Aslam", "Akram", "Javed", "Rashid", "Sohail", "Waseem", "Amir", "Babar", "Danish",
    "Ehsan", "Farhan", "Ghulam", "Haroon", "Ijaz", "Jamil", "Kashif", "Luqman", "Mansoor", "Nasir",
    "Owais", "Qasim", "Raheel", "Salman", "Talha", "Wajid", "Yousaf", "Zeeshan", "Atif",
    "Mudassar", "Abid", "Shakeel",
];

pub const FEMALE_GIVEN: &[&str] = &[
    "Ayesha", "Fatima", "Sana", "Amna", "Hina", "Mariam", "Nadia", "Rabia", "Saima", "Sadia",
    "Shazia", "Uzma", "Zainab", "Asma", "Bushra", "Farah", "Iqra", "Kiran", "Madiha", "Nazia",
    "Naila", "Rubina", "Samina", "Tahira", "Yasmin", "Aqsa", "Bisma", "Fozia", "Huma", "Maryam",
    "Nimra", "Rukhsana", "Sobia", "Tayyaba", "Zahida", "Mehwish", "Sidra", "Anum", "Komal",
    "Shabana",
];

pub const FAMILY: &[&str] = &[
    "Ahmed", "Khan", "Butt", "Malik", "Chaudhry", "Sheikh", "Qureshi", "Mirza", "Raza", "Iqbal",
    "Javed", "Akhtar", "Aslam", "Hussain", "Bhatti", "Cheema", "Gondal", "Bajwa", "Warraich",
    "Randhawa", "Ghuman", "Dar", "Mughal", "Rana", "Siddiqui", "Ansari", "Rehman", "Anwar",
    "Nawaz", "Saeed", "Latif", "Sadiq", "Abbasi", "Hashmi", "Zafar", "Tariq", "Yousaf", "Rafiq",
    "Ashraf", "Shafiq", "Arshad", "Naeem", "Mahmood", "Rasheed", "Kausar", "Sandhu", "Virk",
    "Awan", "Chattha", "Sahi",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Male,
    Female,
}

impl Gender {
    pub fn word(self) -> &'static str {
        match self {
            Gender::Male => "Male",
            Gender::Female => "Female",
        }
    }
    pub fn letter(self) -> &'static str {
        match self {
            Gender::Male => "M",
            Gender::Female => "F",
        }
    }
}

/// One fake person, identified by the CNIC.
#[derive(Debug, Clone)]
pub struct Person {
    pub name: String,
    pub gender: Gender,
    /// `35202-1234567-1`
    pub cnic: String,
    /// `0300-1234567`
    pub mobile: String,
}

/// The CNIC area prefix (5 digits) of the Punjab districts used here.
pub fn cnic_prefix(district: &str) -> &'static str {
    match district {
        "Sialkot" => "34603",
        "Gujranwala" => "34101",
        "Sheikhupura" => "35404",
        "Kasur" => "35102",
        _ => "35202", // Lahore
    }
}

/// Hands out fake people and identifiers, never the same CNIC, mobile or NTN twice.
#[derive(Debug, Default)]
pub struct People {
    cnics: HashSet<String>,
    mobiles: HashSet<String>,
    ntns: HashSet<String>,
    secps: HashSet<String>,
}

const MOBILE_PREFIXES: &[&str] = &[
    "0300", "0301", "0302", "0303", "0305", "0306", "0307", "0308", "0309", "0310", "0312", "0313",
    "0315", "0320", "0321", "0322", "0323", "0331", "0333", "0334", "0335", "0336", "0341", "0342",
    "0343", "0345", "0346", "0347",
];

impl People {
    pub fn name(rng: &mut StdRng, gender: Gender) -> String {
        let family = pick(rng, FAMILY);
        match gender {
            Gender::Male => {
                let given = pick(rng, MALE_GIVEN);
                if rng.random_bool(0.3) {
                    format!("Muhammad {given} {family}")
                } else {
                    format!("{given} {family}")
                }
            }
            Gender::Female => {
                let given = pick(rng, FEMALE_GIVEN);
                if rng.random_bool(0.12) {
                    let second = pick(rng, FEMALE_GIVEN);
                    if second != given {
                        return format!("{given} {second} {family}");
                    }
                }
                format!("{given} {family}")
            }
        }
    }

    pub fn person(&mut self, rng: &mut StdRng, gender: Gender, district: &str) -> Person {
        Person {
            name: Self::name(rng, gender),
            gender,
            cnic: self.cnic(rng, gender, district),
            mobile: self.mobile(rng),
        }
    }

    /// Last digit odd for men, even for women, as on real CNICs.
    pub fn cnic(&mut self, rng: &mut StdRng, gender: Gender, district: &str) -> String {
        loop {
            let body: u32 = rng.random_range(1_000_000..10_000_000);
            let last = match gender {
                Gender::Male => 2 * rng.random_range(0..5) + 1,
                Gender::Female => 2 * rng.random_range(0..5),
            };
            let c = format!("{}-{body}-{last}", cnic_prefix(district));
            if self.cnics.insert(c.clone()) {
                return c;
            }
        }
    }

    pub fn mobile(&mut self, rng: &mut StdRng) -> String {
        loop {
            let m = format!(
                "{}-{:07}",
                pick(rng, MOBILE_PREFIXES),
                rng.random_range(1_000_000..10_000_000u32)
            );
            if self.mobiles.insert(m.clone()) {
                return m;
            }
        }
    }

    /// National Tax Number `1234567-8`.
    pub fn ntn(&mut self, rng: &mut StdRng) -> String {
        loop {
            let n = format!(
                "{}-{}",
                rng.random_range(1_000_000..10_000_000u32),
                rng.random_range(0..10)
            );
            if self.ntns.insert(n.clone()) {
                return n;
            }
        }
    }

    /// SECP company registration number: 7 digits, mostly with leading zeros.
    pub fn secp(&mut self, rng: &mut StdRng) -> String {
        loop {
            let n = format!("{:07}", rng.random_range(1_000..240_000u32));
            if self.secps.insert(n.clone()) {
                return n;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn identifier_shapes() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut people = People::default();
        let p = people.person(&mut rng, Gender::Female, "Sialkot");
        assert!(p.cnic.starts_with("34603-"));
        assert_eq!(p.cnic.len(), 15);
        let last: u32 = p.cnic[14..].parse().unwrap();
        assert_eq!(last % 2, 0);
        assert_eq!(p.mobile.len(), 12);
        assert_eq!(&p.mobile[4..5], "-");
        let ntn = people.ntn(&mut rng);
        assert_eq!(ntn.len(), 9);
        assert_eq!(&ntn[7..8], "-");
        assert_eq!(people.secp(&mut rng).len(), 7);
    }
}
