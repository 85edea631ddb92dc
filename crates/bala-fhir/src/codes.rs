//! Vaccine code tables: other systems' codes ↔ Bala's product codes.
//!
//! The defaults cover Kazakhstan's calendar in CDC's CVX and WHO's ATC. SNOMED
//! CT and national or vendor codes are added by administrators (stored rows);
//! the table is data, not code.

use serde::{Deserialize, Serialize};

pub const CVX: &str = "http://hl7.org/fhir/sid/cvx";
pub const ATC: &str = "http://www.whocc.no/atc";
pub const SNOMED: &str = "http://snomed.info/sct";

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Coding {
    pub system: String,
    pub code: String,
}

/// One mapping row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    pub system: String,
    pub code: String,
    pub product: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeTable {
    pub rows: Vec<Mapping>,
}

/// (product, CVX, ATC). CVX from CDC's CVX table; ATC from WHO's index (J07).
const DEFAULTS: &[(&str, &str, &str)] = &[
    ("HEXA", "146", "J07CA09"),
    ("PENTA", "120", "J07CA06"),
    ("BCG", "19", "J07AN01"),
    ("HepB", "08", "J07BC01"),
    ("PCV13", "133", "J07AL02"),
    ("MMR", "03", "J07BD52"),
    ("OPV", "178", "J07BF04"),
    ("IPV", "10", "J07BF03"),
    ("DTaP", "20", "J07AJ52"),
    ("Td", "138", "J07AM51"),
    ("HPV4", "62", "J07BM01"),
    ("HepA", "83", "J07BC02"),
    ("DTwP", "01", "J07AJ51"),
    ("Hib", "49", "J07AG01"),
];

impl CodeTable {
    /// The CVX and ATC codes of the national calendar, plus Bala's own product codes.
    pub fn defaults() -> CodeTable {
        let mut rows = Vec::new();
        for (product, cvx, atc) in DEFAULTS {
            rows.push(Mapping {
                system: CVX.into(),
                code: (*cvx).into(),
                product: (*product).into(),
            });
            rows.push(Mapping {
                system: ATC.into(),
                code: (*atc).into(),
                product: (*product).into(),
            });
            rows.push(Mapping {
                system: crate::PRODUCT_SYSTEM.into(),
                code: (*product).into(),
                product: (*product).into(),
            });
        }
        CodeTable { rows }
    }

    pub fn with(mut self, system: &str, code: &str, product: &str) -> CodeTable {
        self.rows.push(Mapping {
            system: system.into(),
            code: code.into(),
            product: product.into(),
        });
        self
    }

    /// The product for a coding, if the table maps it.
    pub fn product(&self, system: &str, code: &str) -> Option<&str> {
        self.rows
            .iter()
            .find(|m| m.system == system && m.code == code)
            .map(|m| m.product.as_str())
    }

    /// Every coding of a product (Bala's own first), for export.
    pub fn codings(&self, product: &str) -> Vec<Coding> {
        let mut out = vec![Coding {
            system: crate::PRODUCT_SYSTEM.into(),
            code: product.into(),
        }];
        out.extend(
            self.rows
                .iter()
                .filter(|m| m.product == product && m.system != crate::PRODUCT_SYSTEM)
                .map(|m| Coding {
                    system: m.system.clone(),
                    code: m.code.clone(),
                }),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_map_both_ways() {
        let t = CodeTable::defaults();
        assert_eq!(t.product(CVX, "146"), Some("HEXA"));
        assert_eq!(t.product(ATC, "J07BD52"), Some("MMR"));
        assert_eq!(t.product(CVX, "999"), None);
        let codings = t.codings("MMR");
        assert_eq!(codings[0].system, crate::PRODUCT_SYSTEM);
        assert!(codings.iter().any(|c| c.system == CVX && c.code == "03"));
        let local = t.with("urn:oid:1.2.36.1.2001.1005.17", "FLUVAX", "FLU");
        assert_eq!(
            local.product("urn:oid:1.2.36.1.2001.1005.17", "FLUVAX"),
            Some("FLU")
        );
    }
}
