//! mend: a text-cleaning and normalization pipeline for scraped and
//! machine-translated news text, with exact provenance.
//!
//! Six stages run in order: [decode](stage::decode) (bytes to text),
//! [mojibake](stage::mojibake), [markup](stage::markup),
//! [boilerplate](stage::boilerplate), [quotes](stage::quotes) and
//! [normalize](stage::normalize). Each stage only *finds* [`Edit`]s; one
//! applier ([`edit::apply`]) builds the next text from them. So every
//! change is recorded, with its rule and reason, and can be undone:
//! [`notes::restore`] rebuilds the original bytes exactly.
//!
//! ```
//! let pipeline = mend::Pipeline::default();
//! let cleaned = pipeline.clean(b"Moscow,\xC2\xA0Oct. 14  \r\n\r\n\r\nText.").unwrap();
//! assert_eq!(cleaned.text, "Moscow, Oct. 14\n\nText.\n");
//! for note in &cleaned.edits {
//!     println!("{} {} {:?} -> {:?}", note.stage, note.rule, note.removed, note.inserted);
//! }
//! // The notes undo every edit.
//! let original = b"Moscow,\xC2\xA0Oct. 14  \r\n\r\n\r\nText.";
//! let notes = mend::notes::write(&cleaned, original, "-", pipeline.config());
//! let (header, edits) = mend::notes::read(&notes).unwrap();
//! assert_eq!(mend::notes::restore(&cleaned.text, &header, &edits).unwrap(), original);
//! ```
//!
//! # Allocation
//! A stage that finds nothing costs no allocation: the text passes through
//! as `Cow::Borrowed`. Valid UTF-8 input is not copied by decode.
//!
//! # Panics
//! None on any input: bad bytes are data (decode turns them into edits that
//! keep the bytes), and the only input that is refused, a binary file, is an
//! [`Error`].
//!
//! # Notes
//! See [`notes`] and the README for the JSON Lines format.

#![deny(missing_docs)]

pub mod corpus;
pub mod edit;
pub mod error;
pub mod jsonl;
pub mod notes;
pub mod pipeline;
pub mod rules;
pub mod stage;

pub use corpus::Corpus;
pub use edit::{Edit, Rule};
pub use error::Error;
pub use pipeline::{Cleaned, Config, LossyMode, Pipeline, QuoteStyle};
pub use stage::{Stage, StageSet};

/// Cleans `bytes` with the default configuration.
pub fn clean(bytes: &[u8]) -> Result<Cleaned, Error> {
    Pipeline::default().clean(bytes)
}
