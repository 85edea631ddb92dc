//! Code lists of the pillar: agencies, services, protection concerns, consent
//! relations. Codes are stored; labels live in the web layer's Fluent files
//! (`welfare-agency-<code>`, `welfare-service-<code>`, `welfare-concern-<code>`).

/// Agencies a child is referred between. `social_services` is the district's
/// social services / guardianship body, which manages cases in Bala.
pub const AGENCIES: &[&str] = &[
    "social_services",
    "health",
    "education",
    "police",
    "social_protection",
    "ngo",
];

/// Services of a case plan: the eight spheres of special social services
/// (Law 114-IV, kept by the Social Code) plus the referral kinds Primero uses.
pub const SERVICES: &[&str] = &[
    "social_domestic",
    "psychological",
    "pedagogical",
    "medical",
    "legal",
    "economic",
    "labour",
    "cultural",
    "shelter",
    "case_management",
];

/// Protection concerns (Primero's list, adapted to Kazakhstan's categories).
pub const CONCERNS: &[&str] = &[
    "physical_abuse",
    "sexual_abuse",
    "emotional_abuse",
    "neglect",
    "domestic_violence",
    "trafficking",
    "child_marriage",
    "child_labour",
    "street_child",
    "without_parental_care",
    "disability",
    "serious_health",
    "conflict_with_law",
    "substance_use",
    "no_documents",
    "other",
];

/// Concerns that make a case sensitive from the start (restricted access).
pub const SENSITIVE_CONCERNS: &[&str] = &["sexual_abuse", "trafficking"];

/// Who gave consent, as they stand to the child.
pub const CONSENT_RELATIONS: &[&str] = &["child", "mother", "father", "guardian", "other"];

pub fn is_agency(s: &str) -> bool {
    AGENCIES.contains(&s)
}
pub fn is_service(s: &str) -> bool {
    SERVICES.contains(&s)
}
pub fn is_concern(s: &str) -> bool {
    CONCERNS.contains(&s)
}

/// Whether any of the concerns makes a case sensitive.
pub fn sensitive_concerns(concerns: &[String]) -> bool {
    concerns
        .iter()
        .any(|c| SENSITIVE_CONCERNS.contains(&c.as_str()))
}
