-- Vaccine code table for FHIR exchange: another system's coding (CVX, ATC,
-- SNOMED CT, a national or vendor code) → Bala's product code. Seeded from
-- bala-fhir's bundled defaults on first use; edited by administrators.
CREATE TABLE imm_code_map (
    system TEXT NOT NULL,
    code TEXT NOT NULL,
    product TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (system, code)
);
