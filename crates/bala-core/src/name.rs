//! Names across scripts.
//!
//! The same child may be written "Нұрлан" (Kazakh Cyrillic), "Нурлан" (Russian
//! spelling) or "Nurlan"/"Nurlan" (passport Latin, or the 2021 Kazakh Latin
//! alphabet with its diacritics). [`fold_key`] maps all of them to one matching key
//! so that search and duplicate detection see one name. The key is for matching
//! only; [`to_latin`] gives a readable Latin spelling for display.

/// Transliterates one lower-case character to a Latin matching form.
fn fold_char(c: char) -> &'static str {
    match c {
        // Cyrillic (Kazakh and Russian letters)
        'а' | 'ә' => "a",
        'б' => "b",
        'в' => "v",
        'г' | 'ғ' => "g",
        'д' => "d",
        'е' | 'ё' | 'э' => "e",
        'ж' => "zh",
        'з' => "z",
        'и' | 'й' | 'і' | 'ы' => "i",
        'к' | 'қ' => "k",
        'л' => "l",
        'м' => "m",
        'н' | 'ң' => "n",
        'о' | 'ө' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' | 'ұ' | 'ү' | 'ў' => "u",
        'ф' => "f",
        'х' | 'һ' => "h",
        'ц' => "ts",
        'ч' => "ch",
        'ш' | 'щ' => "sh",
        'ю' => "iu",
        'я' => "ia",
        'ъ' | 'ь' => "",
        // Latin letters with diacritics (2021 Kazakh Latin, Turkish-style spellings)
        'á' | 'ä' | 'à' | 'â' | 'ā' => "a",
        'ǵ' | 'ğ' => "g",
        'ń' | 'ñ' => "n",
        'ó' | 'ö' | 'ô' | 'ō' => "o",
        'ú' | 'ü' | 'ū' | 'ù' | 'û' => "u",
        'ı' | 'í' | 'ì' | 'î' | 'ï' | 'y' | 'ý' | 'ÿ' => "i",
        'é' | 'è' | 'ê' | 'ë' => "e",
        'ş' | 'š' => "sh",
        'ç' | 'č' => "ch",
        'ž' => "zh",
        'j' => "zh",
        'q' => "k",
        'w' => "v",
        'x' => "ks",
        _ => "",
    }
}

/// The matching key of one name: lower-case ASCII letters, the same for the
/// Kazakh, Russian and Latin spellings of a name. Non-letters are dropped.
///
/// Rules beyond letter-by-letter transliteration, each for a common variation:
/// `kh`/`gh` → `h`/`g` (Akhmet/Ahmet), `ie` after a vowel or at the start → `e`
/// (Yerlan/Erlan, Nurbayeva/Nurbaeva), `c` outside `ch` → `ts`, doubled letters
/// collapse (Zhanna/Жана, Aliya/Aliia). Rules are applied until nothing changes,
/// so the key is idempotent: `fold_key(fold_key(x)) == fold_key(x)`.
pub fn fold_key(name: &str) -> String {
    let mut s = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() && !matches!(c, 'j' | 'q' | 'w' | 'x' | 'y') {
            s.push(c);
        } else {
            s.push_str(fold_char(c));
        }
    }
    loop {
        let next = fold_pass(&s);
        if next == s {
            return s;
        }
        s = next;
    }
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u')
}

fn fold_pass(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out: Vec<char> = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if chars[i..].starts_with(&['s', 'h', 'c', 'h']) {
            // щ: "shch" in passports, "sh" in the key
            out.extend(['s', 'h']);
            i += 4;
            continue;
        }
        match (c, next) {
            ('k', Some('h')) => {
                out.push('h');
                i += 2;
                continue;
            }
            ('g', Some('h')) => {
                out.push('g');
                i += 2;
                continue;
            }
            ('c', n) if n != Some('h') => {
                out.extend(['t', 's']);
                i += 1;
                continue;
            }
            ('i', Some('e')) if out.last().is_none_or(|p| is_vowel(*p)) => {
                out.push('e');
                i += 2;
                continue;
            }
            _ => {}
        }
        if out.last() != Some(&c) {
            out.push(c);
        }
        i += 1;
    }
    out.into_iter().collect()
}

/// Matching keys of every word in a full name, deduplicated, for the search index.
pub fn name_keys<'a>(parts: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut keys: Vec<String> = parts
        .into_iter()
        .flat_map(|p| p.split(|c: char| c.is_whitespace() || c == '-' || c == ','))
        .map(fold_key)
        .filter(|k| !k.is_empty())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// A readable Latin spelling (passport style, as the migration service writes
/// Kazakh names) for a name written in Cyrillic. Latin input is returned as is.
pub fn to_latin(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut at_word_start = true;
    for c in name.chars() {
        let lower = c.to_lowercase().next().unwrap_or(c);
        let latin: &str = match lower {
            'а' | 'ә' => "a",
            'б' => "b",
            'в' => "v",
            'г' | 'ғ' => "g",
            'д' => "d",
            'е' | 'ё' | 'э' => "e",
            'ж' => "zh",
            'з' => "z",
            'и' | 'і' | 'й' => "i",
            'к' | 'қ' => "k",
            'л' => "l",
            'м' => "m",
            'н' | 'ң' => "n",
            'о' | 'ө' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' | 'ұ' | 'ү' => "u",
            'ф' => "f",
            'х' | 'һ' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ы' => "y",
            'ю' => "yu",
            'я' => "ya",
            'ъ' | 'ь' => "",
            _ => {
                out.push(c);
                at_word_start = !c.is_alphabetic();
                continue;
            }
        };
        if c.is_uppercase() && at_word_start {
            let mut chars = latin.chars();
            if let Some(first) = chars.next() {
                out.extend(first.to_uppercase());
                out.push_str(chars.as_str());
            }
        } else if c.is_uppercase() {
            out.push_str(&latin.to_uppercase());
        } else {
            out.push_str(latin);
        }
        at_word_start = false;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn same(a: &str, b: &str) {
        assert_eq!(fold_key(a), fold_key(b), "{a} vs {b}");
    }

    #[test]
    fn kazakh_russian_and_latin_spellings_meet() {
        same("Нұрлан", "Nurlan");
        same("Нурлан", "Nurlan");
        same("Қайрат", "Kairat");
        same("Қайрат", "Qairat");
        same("Kayrat", "Kairat");
        same("Айгерім", "Aigerim");
        same("Aygerim", "Aigerim");
        same("Жанар", "Janar");
        same("Жанар", "Zhanar");
        same("Ерлан", "Yerlan");
        same("Ерлан", "Erlan");
        same("Ахмет", "Akhmet");
        same("Ахмет", "Ahmet");
        same("Алия", "Aliya");
        same("Aliia", "Aliya");
        same("Жанна", "Zhanna");
        same("Шынар", "Shynar");
        same("Şynar", "Shynar");
        same("Ғалым", "Galym");
        same("Юлия", "Yulia");
        same("Юлия", "Iuliia");
        same("Нурбаева", "Nurbayeva");
        same("Цой", "Tsoy");
        same("Әлихан", "Álihan");
        same("Өмірзақ", "Omirzak");
        same("Сәуле", "Saule");
    }

    #[test]
    fn different_names_stay_different() {
        assert_ne!(fold_key("Нурлан"), fold_key("Нурсултан"));
        assert_ne!(fold_key("Айгерим"), fold_key("Айгуль"));
        assert_ne!(fold_key("Asel"), fold_key("Assem"));
    }

    #[test]
    fn keys_for_a_full_name() {
        assert_eq!(
            name_keys(["Нұрланов", "Нұрлан Ерланұлы"]),
            vec!["erlanuli", "nurlan", "nurlanov"]
        );
    }

    #[test]
    fn latin_display() {
        assert_eq!(to_latin("Нұрлан Әлиев"), "Nurlan Aliev");
        assert_eq!(to_latin("Жанна"), "Zhanna");
        assert_eq!(to_latin("Щукина"), "Shchukina");
        assert_eq!(to_latin("Nurlan"), "Nurlan");
    }

    proptest! {
        #[test]
        fn fold_is_idempotent(s in "[a-zA-Zа-яА-ЯәғқңөұүһіӘҒҚҢӨҰҮҺІёЁ \\-]{0,24}") {
            let k = fold_key(&s);
            prop_assert_eq!(fold_key(&k), k.clone());
            prop_assert!(k.chars().all(|c| c.is_ascii_lowercase()));
        }

        #[test]
        fn latin_display_then_fold_matches_fold(s in "[а-яәғқңөұүһі]{1,16}") {
            // A Cyrillic name and its Latin display spelling must be found by one key.
            prop_assert_eq!(fold_key(&to_latin(&s)), fold_key(&s));
        }
    }
}
