//! The province's counties (GB/T 2260 codes): the tenants. Reference data shipped as a CSV.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

const REFERENCE_CSV: &str = include_str!("../../../deploy/reference/zhejiang-counties.csv");

/// A validated 6-digit county code that exists in the reference data.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountyCode(String);

impl CountyCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The county's reference record.
    pub fn county(&self) -> &'static County {
        // A CountyCode is only built for codes in the reference table.
        &reference()[self.0.as_str()]
    }
}

impl fmt::Display for CountyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for CountyCode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{s:?} is not a 6-digit county code"));
        }
        if !reference().contains_key(s) {
            return Err(format!("{s} is not a county of this province"));
        }
        Ok(Self(s.to_owned()))
    }
}

impl TryFrom<String> for CountyCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<CountyCode> for String {
    fn from(c: CountyCode) -> Self {
        c.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct County {
    pub code: String,
    /// Full name, e.g. 德清县.
    pub name: String,
    pub city: String,
}

impl County {
    /// The short name people use in document numbers: 德清县 → 德清, 柯桥区 → 柯桥, 义乌市 → 义乌.
    pub fn short_name(&self) -> &str {
        let name = self.name.as_str();
        for suffix in ["自治县", "县", "区", "市"] {
            if let Some(stem) = name.strip_suffix(suffix)
                && stem.chars().count() >= 2
            {
                return stem;
            }
        }
        name
    }
}

/// Every county in the reference data, by code.
pub fn reference() -> &'static HashMap<String, County> {
    static TABLE: OnceLock<HashMap<String, County>> = OnceLock::new();
    TABLE.get_or_init(|| {
        REFERENCE_CSV
            .lines()
            .skip(1)
            .filter_map(|line| {
                let mut cols = line.split(',');
                let (code, name, _city_code, city) = (cols.next()?, cols.next()?, cols.next()?, cols.next()?);
                Some((code.to_owned(), County { code: code.to_owned(), name: name.to_owned(), city: city.to_owned() }))
            })
            .collect()
    })
}

/// Parses a comma-separated list of county codes; empty entries are an error, duplicates collapse.
pub fn parse_list(raw: &str) -> Result<Vec<CountyCode>, String> {
    let mut codes = raw.split(',').map(str::parse::<CountyCode>).collect::<Result<Vec<_>, _>>()?;
    codes.sort();
    codes.dedup();
    if codes.is_empty() {
        return Err("no county given".to_owned());
    }
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_has_the_provinces_ninety_counties() {
        assert_eq!(reference().len(), 90);
        let deqing: CountyCode = "330521".parse().expect("known");
        assert_eq!(deqing.county().name, "德清县");
        assert_eq!(deqing.county().short_name(), "德清");
        let yiwu: CountyCode = "330782".parse().expect("known");
        assert_eq!(yiwu.county().short_name(), "义乌");
    }

    #[test]
    fn bad_codes_are_refused_with_the_reason() {
        assert!("33052".parse::<CountyCode>().unwrap_err().contains("6-digit"));
        assert!("110101".parse::<CountyCode>().unwrap_err().contains("not a county"));
        assert!(parse_list("330521,,330782").is_err());
        assert_eq!(parse_list("330782, 330521,330521").expect("ok").len(), 2);
    }
}
