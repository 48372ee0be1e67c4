//! Text shown to users on one line: warnings, finding messages, condition messages.

/// `text` as one line of at most `max_chars` characters: every control character (newline,
/// tab, escape: a user's input may hold any of them) becomes a space, and longer text is cut to
/// `max_chars` characters, the last of which is "…". `usize::MAX` never cuts.
pub fn one_line(text: &str, max_chars: usize) -> String {
    let mut line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if let Some((cut, _)) = line.char_indices().nth(max_chars.saturating_sub(1))
        && line.chars().count() > max_chars
    {
        line.truncate(cut);
        line.push('…');
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::WARNING_MAX_CHARS;

    #[test]
    fn one_line_strips_controls_and_cuts() {
        assert_eq!(one_line("a\nb\tc", 10), "a b c");
        let long = "x".repeat(300);
        let cut = one_line(&long, WARNING_MAX_CHARS);
        assert_eq!(cut.chars().count(), WARNING_MAX_CHARS);
        assert!(cut.ends_with('…'));
        assert_eq!(one_line(&"é".repeat(5), 5), "ééééé");
    }

    #[test]
    fn cuts_on_a_char_boundary_and_never_with_no_limit() {
        assert_eq!(one_line("a\u{1b}b", 10), "a b");
        assert_eq!(one_line(&"é".repeat(6), 5), "éééé…");
        assert_eq!(one_line(&"y".repeat(5000), usize::MAX).len(), 5000);
    }
}
