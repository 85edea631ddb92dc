//! Kazakhstan's top-level units across the 2018 and 2022 reforms, and resolving the
//! area codes data files use (kazstat's `KZAKM`, ISO `KZ-11`, map `KZ03`) to KATO.
//!
//! Units existed for a while only: `KZONT` (South Kazakhstan) until 19 June 2018,
//! `KZYUZ` (Turkistan) and `KZSHY` (Shymkent) after; Abai, Zhetysu and Ulytau from
//! 8 June 2022. A value for a unit outside its lifetime is not an error, though:
//! the statistics bureau recalculates series for new units in today's borders
//! (kazstat's 1.2.1 gives Turkistan from 2014, its 8.7.1 from 2010). So a code
//! resolves whatever the period, and [`Region::existed_during`] tells the caller
//! when to mark a value as recalculated for borders that did not exist yet.

use super::{Lang, Names};
use crate::model::{AreaRef, Period};
use bala_core::{parse_date, AreaCode, Date};
use serde::Serialize;

/// One top-level unit (region or city of republican significance).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Region {
    pub kato: AreaCode,
    pub iso_3166_2: Option<String>,
    /// kazstat's code, used as `REF_AREA` in its SDG files.
    pub stat_code: Option<String>,
    /// The code in kazstat's `regions.geojson`.
    pub map_code: Option<String>,
    pub names: Names,
    /// First day the unit existed; `None`: before any data.
    pub valid_from: Option<Date>,
    /// Last day it existed (the reform's date); `None`: still exists.
    pub valid_to: Option<Date>,
    /// The unit it was split from.
    pub split_from: Option<AreaCode>,
}

impl Region {
    /// Whether the unit existed on any day of `period`.
    pub fn existed_during(&self, period: Period) -> bool {
        self.valid_from.is_none_or(|f| f <= period.end_date())
            && self.valid_to.is_none_or(|t| t >= period.start_date())
    }

    fn has_code(&self, code: &str) -> bool {
        [&self.stat_code, &self.iso_3166_2, &self.map_code]
            .iter()
            .any(|c| c.as_deref() == Some(code))
    }
}

/// Reads `kazakhstan-regions.csv` (`kato, iso_3166_2, stat_code, map_code, name_kk,
/// name_ru, name_en, valid_from, valid_to, split_from`). Each bad line is reported
/// as `line N: problem`.
pub fn parse_regions(input: &[u8]) -> Result<Vec<Region>, Vec<String>> {
    let mut reader =
        csv::ReaderBuilder::new().from_reader(input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input));
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_string()).collect(),
        Err(e) => return Err(vec![format!("line 1: {e}")]),
    };
    let col = |name: &str| header.iter().position(|h| h == name);
    let Some(kato_col) = col("kato") else {
        return Err(vec!["line 1: no kato column".into()]);
    };
    let cols = Columns {
        kato: kato_col,
        iso: col("iso_3166_2"),
        stat: col("stat_code"),
        map: col("map_code"),
        names: [col("name_kk"), col("name_ru"), col("name_en")],
        from: col("valid_from"),
        to: col("valid_to"),
        split: col("split_from"),
    };
    let (mut regions, mut errors) = (Vec::new(), Vec::new());
    for (i, rec) in reader.records().enumerate() {
        let line = i + 2;
        match rec
            .map_err(|e| e.to_string())
            .and_then(|r| region(&r, &cols))
        {
            Ok(r) => regions.push(r),
            Err(e) => errors.push(format!("line {line}: {e}")),
        }
    }
    if errors.is_empty() {
        Ok(regions)
    } else {
        Err(errors)
    }
}

struct Columns {
    kato: usize,
    iso: Option<usize>,
    stat: Option<usize>,
    map: Option<usize>,
    names: [Option<usize>; 3],
    from: Option<usize>,
    to: Option<usize>,
    split: Option<usize>,
}

fn region(r: &csv::StringRecord, c: &Columns) -> Result<Region, String> {
    let cell = |i: Option<usize>| {
        i.and_then(|i| r.get(i))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let kato = AreaCode::parse(r.get(c.kato).unwrap_or("")).map_err(|e| e.to_string())?;
    let date = |i: Option<usize>| {
        cell(i)
            .map(|d| parse_date(&d).map_err(|_| format!("'{d}' is not a YYYY-MM-DD date")))
            .transpose()
    };
    let mut names = Names::default();
    for (lang, i) in Lang::ALL.into_iter().zip(c.names) {
        if let Some(n) = cell(i) {
            names.set(lang, n);
        }
    }
    Ok(Region {
        kato,
        iso_3166_2: cell(c.iso),
        stat_code: cell(c.stat),
        map_code: cell(c.map),
        names,
        valid_from: date(c.from)?,
        valid_to: date(c.to)?,
        split_from: cell(c.split)
            .map(|s| AreaCode::parse(&s).map_err(|e| e.to_string()))
            .transpose()?,
    })
}

/// The KATO code an area reference stands for: national → the Republic; KATO →
/// itself; another code → the region with that stat, ISO or map code, preferring
/// one that existed during `period` if several share it. `None` when nothing
/// matches.
pub fn resolve_area(regions: &[Region], area: &AreaRef, period: Period) -> Option<AreaCode> {
    match area {
        AreaRef::National => Some(AreaCode::republic()),
        AreaRef::Kato(code) => Some(code.clone()),
        AreaRef::Code(code) => {
            let all: Vec<&Region> = regions.iter().filter(|r| r.has_code(code)).collect();
            all.iter()
                .find(|r| r.existed_during(period))
                .or(all.first())
                .map(|r| r.kato.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "kato,iso_3166_2,stat_code,map_code,name_kk,name_ru,name_en,valid_from,valid_to,split_from\n\
        510000000,,KZONT,,Оңтүстік Қазақстан облысы,Южно-Казахстанская область,South Kazakhstan Region,,2018-06-19,\n\
        610000000,KZ-61,KZYUZ,KZ10,Түркістан облысы,Туркестанская область,Turkistan Region,2018-06-19,,510000000\n";

    #[test]
    fn resolves_by_period() {
        let r = parse_regions(CSV.as_bytes()).unwrap();
        let y = |y| Period::annual(y).unwrap();
        let ont = AreaRef::parse("KZONT");
        assert_eq!(
            resolve_area(&r, &ont, y(2017)).unwrap().as_str(),
            "510000000"
        );
        assert_eq!(
            resolve_area(&r, &ont, y(2018)).unwrap().as_str(),
            "510000000"
        );
        assert_eq!(
            resolve_area(&r, &ont, y(2019)).unwrap().as_str(),
            "510000000"
        );
        assert_eq!(
            resolve_area(&r, &AreaRef::parse("KZ-61"), y(2019))
                .unwrap()
                .as_str(),
            "610000000"
        );
        assert_eq!(
            resolve_area(&r, &AreaRef::parse("KZYUZ"), y(2017))
                .unwrap()
                .as_str(),
            "610000000"
        );
        assert_eq!(resolve_area(&r, &AreaRef::parse("KZXXX"), y(2017)), None);
        assert!(r[0].existed_during(y(2018)) && !r[0].existed_during(y(2019)));
        assert!(!r[1].existed_during(y(2017)) && r[1].existed_during(y(2018)));
        assert_eq!(
            resolve_area(&r, &AreaRef::National, y(2017))
                .unwrap()
                .as_str(),
            "000000000"
        );
        assert_eq!(r[1].split_from.as_ref().unwrap().as_str(), "510000000");
        assert_eq!(r[1].names.get(Lang::En), Some("Turkistan Region"));
    }

    #[test]
    fn bad_lines_are_reported() {
        let bad = "kato,valid_from\n12,\n100000000,2022-13-01\n";
        let e = parse_regions(bad.as_bytes()).unwrap_err();
        assert_eq!(e.len(), 2);
        assert!(
            e[0].starts_with("line 2:") && e[1].starts_with("line 3:"),
            "{e:?}"
        );
    }
}
