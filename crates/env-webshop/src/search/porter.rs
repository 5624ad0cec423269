//! Martin Porter's original stemming algorithm as Lucene's `PorterStemmer` implements it
//! (Porter's reference version: `bli` → `ble`, `logi` → `log`; words of one or two letters are
//! left alone; non-ASCII letters count as consonants).
//!
//! This is not Snowball's "English" (Porter2) stemmer, which differs on words such as `grey`
//! (Porter: `grei`) that the reference's index contains.

/// Stems one lower-cased token.
pub fn stem(word: &str) -> String {
    let mut stemmer = Stemmer {
        b: word.chars().collect(),
        k: 0,
        j: 0,
    };
    if stemmer.b.len() <= 2 {
        return word.to_owned();
    }
    stemmer.k = stemmer.b.len() - 1;
    stemmer.step1();
    stemmer.step2();
    stemmer.step3();
    stemmer.step4();
    stemmer.step5();
    stemmer.step6();
    stemmer.b[..=stemmer.k].iter().collect()
}

struct Stemmer {
    b: Vec<char>,
    /// Index of the last character of the current word.
    k: usize,
    /// End of the stem before a matched suffix (may be "-1", stored as `usize::MAX`).
    j: usize,
}

impl Stemmer {
    fn cons(&self, i: usize) -> bool {
        match self.b[i] {
            'a' | 'e' | 'i' | 'o' | 'u' => false,
            'y' => i == 0 || !self.cons(i - 1),
            _ => true,
        }
    }

    /// The number of consonant sequences between 0 and j (inclusive): `[C](VC)^m[V]`.
    fn m(&self) -> usize {
        let end = self.j.wrapping_add(1); // number of characters in b[0..=j]
        // The first index from `i` on whose letter is a consonant (`consonant`) or a vowel.
        let seek = |from: usize, consonant: bool| (from..end).find(|&i| self.cons(i) == consonant);
        let mut n = 0;
        let Some(first_vowel) = seek(0, false) else {
            return n;
        };
        let mut i = first_vowel + 1;
        loop {
            let Some(consonant) = seek(i, true) else {
                return n;
            };
            n += 1;
            let Some(vowel) = seek(consonant + 1, false) else {
                return n;
            };
            i = vowel + 1;
        }
    }

    fn vowel_in_stem(&self) -> bool {
        let end = self.j.wrapping_add(1);
        (0..end).any(|i| !self.cons(i))
    }

    fn double_c(&self, j: usize) -> bool {
        j >= 1 && self.b[j] == self.b[j - 1] && self.cons(j)
    }

    fn cvc(&self, i: usize) -> bool {
        if i < 2 || !self.cons(i) || self.cons(i - 1) || !self.cons(i - 2) {
            return false;
        }
        !matches!(self.b[i], 'w' | 'x' | 'y')
    }

    fn ends(&mut self, s: &str) -> bool {
        let s: Vec<char> = s.chars().collect();
        let l = s.len();
        if l > self.k + 1 {
            return false;
        }
        let o = self.k + 1 - l;
        if self.b[o..=self.k] != s[..] {
            return false;
        }
        self.j = (self.k + 1 - l).wrapping_sub(1);
        true
    }

    fn set_to(&mut self, s: &str) {
        let start = self.j.wrapping_add(1);
        self.b.truncate(start);
        self.b.extend(s.chars());
        // Keep any characters past k out of the way: the buffer now ends at the new word.
        self.k = (start + s.chars().count()).wrapping_sub(1);
    }

    fn r(&mut self, s: &str) {
        if self.m() > 0 {
            self.set_to(s);
        }
    }

    fn truncate_to_k(&mut self) {
        self.b.truncate(self.k + 1);
    }

    /// Plurals and -ed / -ing.
    fn step1(&mut self) {
        if self.b[self.k] == 's' {
            if self.ends("sses") {
                self.k -= 2;
            } else if self.ends("ies") {
                self.set_to("i");
            } else if self.k >= 1 && self.b[self.k - 1] != 's' {
                self.k -= 1;
            }
        }
        self.truncate_to_k();
        if self.ends("eed") {
            if self.m() > 0 {
                self.k -= 1;
            }
        } else if (self.ends("ed") || self.ends("ing")) && self.vowel_in_stem() {
            self.k = self.j;
            self.truncate_to_k();
            if self.ends("at") {
                self.set_to("ate");
            } else if self.ends("bl") {
                self.set_to("ble");
            } else if self.ends("iz") {
                self.set_to("ize");
            } else if self.double_c(self.k) {
                let ch = self.b[self.k];
                if !matches!(ch, 'l' | 's' | 'z') {
                    self.k -= 1;
                }
            } else if self.m() == 1 && self.cvc(self.k) {
                self.set_to("e");
            }
        }
        self.truncate_to_k();
    }

    /// Terminal y → i when there is another vowel in the stem.
    fn step2(&mut self) {
        if self.ends("y") && self.vowel_in_stem() {
            self.b[self.k] = 'i';
        }
    }

    /// Double suffixes to single ones.
    fn step3(&mut self) {
        if self.k == 0 {
            return;
        }
        let rules: &[(&str, &str)] = match self.b[self.k - 1] {
            'a' => &[("ational", "ate"), ("tional", "tion")],
            'c' => &[("enci", "ence"), ("anci", "ance")],
            'e' => &[("izer", "ize")],
            'l' => &[
                ("bli", "ble"),
                ("alli", "al"),
                ("entli", "ent"),
                ("eli", "e"),
                ("ousli", "ous"),
            ],
            'o' => &[("ization", "ize"), ("ation", "ate"), ("ator", "ate")],
            's' => &[
                ("alism", "al"),
                ("iveness", "ive"),
                ("fulness", "ful"),
                ("ousness", "ous"),
            ],
            't' => &[("aliti", "al"), ("iviti", "ive"), ("biliti", "ble")],
            'g' => &[("logi", "log")],
            _ => &[],
        };
        self.apply_first(rules);
    }

    fn apply_first(&mut self, rules: &[(&str, &str)]) {
        for (suffix, replacement) in rules {
            if self.ends(suffix) {
                self.r(replacement);
                return;
            }
        }
    }

    /// -ic-, -full, -ness etc.
    fn step4(&mut self) {
        let rules: &[(&str, &str)] = match self.b[self.k] {
            'e' => &[("icate", "ic"), ("ative", ""), ("alize", "al")],
            'i' => &[("iciti", "ic")],
            'l' => &[("ical", "ic"), ("ful", "")],
            's' => &[("ness", "")],
            _ => &[],
        };
        self.apply_first(rules);
    }

    /// -ant, -ence etc. in context <c>vcvc<v>.
    fn step5(&mut self) {
        if self.k == 0 {
            return;
        }
        let matched = match self.b[self.k - 1] {
            'a' => self.ends("al"),
            'c' => self.ends("ance") || self.ends("ence"),
            'e' => self.ends("er"),
            'i' => self.ends("ic"),
            'l' => self.ends("able") || self.ends("ible"),
            'n' => self.ends("ant") || self.ends("ement") || self.ends("ment") || self.ends("ent"),
            'o' => {
                (self.ends("ion") && self.j != usize::MAX && matches!(self.b[self.j], 's' | 't'))
                    || self.ends("ou")
            }
            's' => self.ends("ism"),
            't' => self.ends("ate") || self.ends("iti"),
            'u' => self.ends("ous"),
            'v' => self.ends("ive"),
            'z' => self.ends("ize"),
            _ => false,
        };
        if matched && self.m() > 1 {
            self.k = self.j;
            self.truncate_to_k();
        }
    }

    /// Final -e and -ll.
    fn step6(&mut self) {
        self.j = self.k;
        if self.b[self.k] == 'e' {
            let a = self.m();
            if a > 1 || (a == 1 && !self.cvc(self.k - 1)) {
                self.k -= 1;
            }
        }
        if self.b[self.k] == 'l' && self.double_c(self.k) && self.m() > 1 {
            self.k -= 1;
        }
        self.truncate_to_k();
    }
}

#[cfg(test)]
mod tests {
    use super::stem;

    #[test]
    fn porter_examples() {
        for (word, expected) in [
            ("caresses", "caress"),
            ("ponies", "poni"),
            ("cats", "cat"),
            ("feed", "feed"),
            ("agreed", "agre"),
            ("plastered", "plaster"),
            ("motoring", "motor"),
            ("hopping", "hop"),
            ("filing", "file"),
            ("happy", "happi"),
            ("relational", "relat"),
            ("generalization", "gener"),
            ("electrical", "electr"),
            ("adjustable", "adjust"),
            ("grey", "grei"),
            ("navy", "navi"),
            ("elastic", "elast"),
            ("large", "larg"),
            ("polyester", "polyest"),
            ("shorts", "short"),
            ("controll", "control"),
            ("analogi", "analog"),
            ("as", "as"),
        ] {
            assert_eq!(stem(word), expected, "{word}");
        }
    }
}
