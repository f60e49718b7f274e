//! The error type.

use std::fmt;
use std::path::PathBuf;

use crate::notes::NotesError;

/// Everything that can go wrong. Messages are lower case, without a final
/// period; the CLI prefixes them with `mend: PATH: `.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The input has NUL bytes outside a UTF-16 pattern: it is not text.
    Binary {
        /// Offset of the first NUL byte.
        offset: usize,
    },
    /// Reading or writing a file failed.
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Notes could not be read or do not fit the clean text.
    Notes {
        /// The notes file.
        path: PathBuf,
        /// The cause.
        source: NotesError,
    },
    /// A rules file is invalid.
    Rules {
        /// The rules file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Binary { offset } => {
                write!(f, "binary file, skipped (NUL byte at offset {offset})")
            }
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Notes { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Rules { path, message } => write!(f, "{}: {message}", path.display()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Notes { source, .. } => Some(source),
            _ => None,
        }
    }
}
