//! The "must not change" list of QUOTES.md: one test per item, each in the
//! styles where the text is already in the target form.

use mend::{Config, Pipeline, QuoteStyle, Stage};

fn run(text: &str, style: QuoteStyle) -> (String, usize) {
    let c = Pipeline::new(Config {
        stages: [Stage::Quotes].into_iter().collect(),
        quotes: style,
        ..Default::default()
    })
    .clean_str(text);
    (c.text, c.edits.len())
}

/// Unchanged in curly and keep style; in ascii style unchanged once curly marks are made straight.
fn untouched(text: &str) {
    for style in [QuoteStyle::Curly, QuoteStyle::Keep] {
        let (out, n) = run(text, style);
        assert_eq!(out, text, "{style:?} changed it");
        assert_eq!(n, 0);
    }
    let ascii: String = text
        .chars()
        .map(|c| match c {
            '“' | '”' => '"',
            '‘' | '’' => '\'',
            c => c,
        })
        .collect();
    let (out, _) = run(&ascii, QuoteStyle::Ascii);
    assert_eq!(out, ascii, "ascii changed it");
}

/// Unchanged in every style, as written (protected text).
fn protected(text: &str) {
    for style in [QuoteStyle::Curly, QuoteStyle::Ascii, QuoteStyle::Keep] {
        let (out, n) = run(text, style);
        assert_eq!(out, text, "{style:?} changed it");
        assert_eq!(n, 0, "{style:?} made an edit");
    }
}

#[test]
fn en_dash_ranges_minus_hyphens_and_double_hyphen() {
    untouched(
        "In 2014–2015, on pages 10–12, the Moscow–Beijing line, −5 degrees, a well-known anti-IS force -- and more.",
    );
    untouched("“The 2014–2015 season was hard,” he said, “and pages 10–12 say so.”");
}

#[test]
fn dashes_used_as_dashes_inside_and_outside_quotations() {
    untouched("“We are ready – as always – to talk,” he said — and left.");
    untouched("“We will act — whatever happens.”");
    untouched("He paused - then spoke: “Yes – no – maybe.”");
}

#[test]
fn dateline_dashes() {
    untouched("MOSCOW, December 8 – RIA Novosti. “We agree,” Lavrov said.");
    untouched("MOSCOW (Sputnik) – However the fact remains, Lavrov said.");
}

#[test]
fn full_stop_position_relative_to_a_closer() {
    untouched("They call it “Ice Age”, the new one.");
    untouched("He called it “absurd”.");
    untouched("He called it “absurd.”");
    untouched("“It is absurd”. Then he left.");
}

#[test]
fn quotation_marks_around_names_and_titles() {
    untouched("the head of “Gazprom” Alexei Miller and the film “Ice Age”.");
    let (out, _) = run("the head of «Gazprom»", QuoteStyle::Curly);
    assert_eq!(out, "the head of “Gazprom”");
}

#[test]
fn primes_and_feet_and_inches() {
    protected("He is 6'2\" tall, she is 5' 11\", the board is 3′ 4″ long.");
    protected("A 12\" pipe and a 5' pole.");
}

#[test]
fn p1_code_spans_and_fenced_code() {
    protected("Call `say(\"hi\")` or ``it's`` here.");
    protected("Code:\n\n```\nlet s = \"x\"; // 'y' -- said X\nprint(\"a /b c/ d\")\n```\n");
    protected("~~~\n\"a\" - said b\n~~~");
}

#[test]
fn p2_urls_and_paths() {
    protected("See http://example.com/a?q=\"x\"&b='y' and www.example.org/it's now.");
    protected("Files in /usr/local/share/it's and C:\\Users\\x\\'a' and ./run.sh now.");
}

#[test]
fn p3_mostly_cyrillic_paragraphs() {
    protected(
        "«Мы можем только выразить сожаление, – сказал представитель Кремля. – Любой отказ от диалога „ИГ“».",
    );
    protected("Заголовок открываемого материала «Новости» – сказал он.");
}

#[test]
fn p4_okina() {
    protected("Hawaiʻi and Oʻahu keep the ʻokina.");
}

#[test]
fn legitimate_slashes_and_tass_credit() {
    untouched(
        "MOSCOW, June 26. /TASS/. The text on 14/10/2015, and/or at 90 km/h, 24/7, S/RES/2254, A/B, Dnieper/Dnipro, DONETSK/LUGANSK /ITAR-TASS/.",
    );
    untouched("A fraction 1/2 and 3/4, a path /var/log/syslog and http://tass.com/politics/1.");
}

#[test]
fn ellipses() {
    untouched("“Wait… and see...” he said… and then... nothing.");
    untouched("where WE think they could be... I’m sure.");
}

#[test]
fn correct_english_in_the_chosen_style() {
    let curly = "“I think this position is non-constructive,” Putin said. He added that Russia “was leaving the doors open”. ‘Sanctions will fail,’ he says. It’s the ’90s, O’Brien’s rock ’n’ roll; the States’ role.\n\n“A long quotation goes on.\n\n“And ends here,” he said.";
    untouched(curly);
    let ascii = "\"I think so,\" Putin said. He added that Russia \"was leaving\". 'Fail,' he says. It's O'Brien's.";
    let (out, n) = run(ascii, QuoteStyle::Ascii);
    assert_eq!((out.as_str(), n), (ascii, 0));
}

#[test]
fn unquoted_attributions_are_left_alone() {
    untouched("Quote of the day, - Person");
    untouched("Sanctions will fail - the prime minister has told.");
}
