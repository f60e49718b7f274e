//! Python bindings of mend: the extension module `mend._mend`, re-exported
//! by the Python package `mend` (see `mend/__init__.pyi` for the API).
//!
//! - `clean(text, quotes=, only=, skip=, lossy=)`: one text, its edits as dicts;
//! - `clean_batch(texts, ..., threads=)`: many texts, in parallel, without the GIL;
//! - `clean_jsonl(lines, ...)`: JSON-lines records, exactly as
//!   `mend clean --format jsonl` writes them (same record and notes lines);
//! - `restore(text, edits)`: the original text back from the clean text and its edits.
//!
//! One [`Pipeline`] is built per distinct configuration and cached (a
//! pipeline is `Send + Sync`). Texts are records, not files: normalize does
//! not add a final newline (as `mend clean --format jsonl`).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use mend::jsonl::{self, NotesMode, Options};
use mend::notes::Note;
use mend::{Cleaned, Config, LossyMode, Pipeline, QuoteStyle, Stage, StageSet};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};
use pyo3::{IntoPyObjectExt, intern};
use rayon::prelude::*;

/// What identifies a pipeline configuration.
type Key = (StageSet, QuoteStyle, LossyMode);

/// Pipelines already built, by configuration.
static PIPELINES: LazyLock<Mutex<HashMap<Key, Arc<Pipeline>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Thread pools for `threads=N` (N > 1), by size.
static POOLS: LazyLock<Mutex<HashMap<usize, Arc<rayon::ThreadPool>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn stage_names() -> String {
    Stage::ALL.map(Stage::name).join(", ")
}

/// Stage names from `None`, a comma-separated string, or an iterable of strings.
fn parse_stages(arg: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<Vec<Stage>>> {
    let Some(arg) = arg.filter(|a| !a.is_none()) else {
        return Ok(None);
    };
    let names: Vec<String> = if let Ok(s) = arg.cast::<PyString>() {
        s.to_cow()?
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect()
    } else {
        let mut v = Vec::new();
        let iter = arg.try_iter().map_err(|_| {
            PyValueError::new_err(format!(
                "{what}= must be a stage name, a comma-separated string or a list of names, not {}",
                type_name(arg)
            ))
        })?;
        for item in iter {
            let item = item?;
            let name = item.cast::<PyString>().map_err(|_| {
                PyValueError::new_err(format!(
                    "{what}= holds a {}, not a stage name",
                    type_name(&item)
                ))
            })?;
            v.push(name.to_cow()?.trim().to_owned());
        }
        v
    };
    let mut stages = Vec::with_capacity(names.len());
    for name in &names {
        let stage = Stage::from_name(name).ok_or_else(|| {
            PyValueError::new_err(format!(
                "unknown stage {name:?} in {what}= (stages: {})",
                stage_names()
            ))
        })?;
        stages.push(stage);
    }
    if stages.is_empty() {
        return Err(PyValueError::new_err(format!(
            "{what}= names no stage (stages: {})",
            stage_names()
        )));
    }
    Ok(Some(stages))
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map_or_else(|_| "?".to_owned(), |n| n.to_string())
}

/// The cached pipeline for these arguments; bad arguments are a `ValueError`.
fn pipeline(
    quotes: &str,
    only: Option<&Bound<'_, PyAny>>,
    skip: Option<&Bound<'_, PyAny>>,
    lossy: &str,
) -> PyResult<Arc<Pipeline>> {
    let quotes = match quotes {
        "curly" => QuoteStyle::Curly,
        "ascii" => QuoteStyle::Ascii,
        "keep" => QuoteStyle::Keep,
        other => {
            return Err(PyValueError::new_err(format!(
                "quotes= must be \"curly\", \"ascii\" or \"keep\", not {other:?}"
            )));
        }
    };
    let lossy = match lossy {
        "keep" => LossyMode::Keep,
        "mark" => LossyMode::Mark,
        other => {
            return Err(PyValueError::new_err(format!(
                "lossy= must be \"keep\" or \"mark\", not {other:?}"
            )));
        }
    };
    // As the command line: --only first, then --skip.
    let mut stages = match parse_stages(only, "only")? {
        Some(v) => v.into_iter().collect(),
        None => StageSet::ALL,
    };
    for s in parse_stages(skip, "skip")?.unwrap_or_default() {
        stages = stages.without(s);
    }
    let key = (stages, quotes, lossy);
    let mut cache = PIPELINES.lock().unwrap_or_else(|e| e.into_inner());
    let p = cache.entry(key).or_insert_with(|| {
        Arc::new(Pipeline::new(Config {
            stages,
            quotes,
            lossy,
            // Texts are records, not files (as `mend clean --format jsonl`).
            final_newline: false,
            ..Config::default()
        }))
    });
    Ok(Arc::clone(p))
}

/// Maps `f` over `items` on `threads` threads: `None` all cores (rayon's
/// global pool), `1` the calling thread, `N` a pool of N threads.
fn map_par<I: Sync, T: Send>(
    items: &[I],
    threads: Option<usize>,
    f: impl Fn(&I) -> T + Sync + Send,
) -> PyResult<Vec<T>> {
    match threads {
        Some(0) => Err(PyValueError::new_err("threads= must be at least 1")),
        Some(1) => Ok(items.iter().map(f).collect()),
        None => Ok(items.par_iter().map(f).collect()),
        Some(n) => {
            let pool = {
                let mut pools = POOLS.lock().unwrap_or_else(|e| e.into_inner());
                match pools.get(&n) {
                    Some(p) => Arc::clone(p),
                    None => {
                        let p = rayon::ThreadPoolBuilder::new()
                            .num_threads(n)
                            .build()
                            .map_err(|e| {
                                PyValueError::new_err(format!("cannot start {n} threads: {e}"))
                            })?;
                        let p = Arc::new(p);
                        pools.insert(n, Arc::clone(&p));
                        p
                    }
                }
            };
            Ok(pool.install(|| items.par_iter().map(f).collect()))
        }
    }
}

/// One edit as a dict with the fields of a notes edit object (absent
/// fields are left out, as in the notes).
fn note_dict<'py>(py: Python<'py>, n: &Note) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item(intern!(py, "stage"), n.stage.name())?;
    d.set_item(intern!(py, "rule"), &*n.rule)?;
    d.set_item(intern!(py, "src"), PyList::new(py, n.src)?)?;
    d.set_item(intern!(py, "at"), PyList::new(py, n.at)?)?;
    if let Some(out) = n.out {
        d.set_item(intern!(py, "out"), PyList::new(py, out)?)?;
    }
    if let Some(s) = &n.removed {
        d.set_item(intern!(py, "removed"), s.as_str())?;
    }
    if let Some(s) = &n.removed_bytes {
        d.set_item(intern!(py, "removed_bytes"), s.as_str())?;
    }
    if let Some(s) = &n.inserted {
        d.set_item(intern!(py, "inserted"), s.as_str())?;
    }
    if let Some(s) = &n.text {
        d.set_item(intern!(py, "text"), s.as_str())?;
    }
    d.set_item(intern!(py, "why"), &*n.why)?;
    if n.finding {
        d.set_item(intern!(py, "finding"), true)?;
    }
    Ok(d)
}

fn cleaned_dict<'py>(py: Python<'py>, c: &Cleaned) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item(intern!(py, "text"), c.text.as_str())?;
    let edits = PyList::empty(py);
    for n in &c.edits {
        edits.append(note_dict(py, n)?)?;
    }
    d.set_item(intern!(py, "edits"), edits)?;
    Ok(d)
}

/// Cleans one text. Returns `{"text": str, "edits": [dict, ...]}`.
#[pyfunction]
#[pyo3(signature = (text, quotes="curly", only=None, skip=None, lossy="keep"))]
fn clean<'py>(
    py: Python<'py>,
    text: &Bound<'py, PyAny>,
    quotes: &str,
    only: Option<&Bound<'py, PyAny>>,
    skip: Option<&Bound<'py, PyAny>>,
    lossy: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let p = pipeline(quotes, only, skip, lossy)?;
    let text = text_arg(text, "text")?;
    // The text is handed over: a large one is not held beside its copies.
    let cleaned = if text.len() > 64 * 1024 {
        py.detach(|| p.clean_string(text))
    } else {
        p.clean_string(text)
    };
    cleaned_dict(py, &cleaned)
}

fn text_arg(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    let s = obj.cast::<PyString>().map_err(|_| {
        PyValueError::new_err(format!("{what} must be a str, not {}", type_name(obj)))
    })?;
    Ok(s.to_cow()?.into_owned())
}

/// Cleans many texts in parallel with the GIL released. Returns one
/// dict per text, in order, each equal to `clean(text, ...)`.
#[pyfunction]
#[pyo3(signature = (texts, quotes="curly", only=None, skip=None, lossy="keep", threads=None))]
fn clean_batch<'py>(
    py: Python<'py>,
    texts: &Bound<'py, PyAny>,
    quotes: &str,
    only: Option<&Bound<'py, PyAny>>,
    skip: Option<&Bound<'py, PyAny>>,
    lossy: &str,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyList>> {
    let p = pipeline(quotes, only, skip, lossy)?;
    if texts.is_instance_of::<PyString>() {
        return Err(PyValueError::new_err(
            "texts must be a list of str, not one str (use clean())",
        ));
    }
    let mut owned = Vec::new();
    for (i, t) in texts.try_iter()?.enumerate() {
        owned.push(text_arg(&t?, &format!("texts[{i}]"))?);
    }
    let cleaned = py.detach(|| map_par(&owned, threads, |t| p.clean_str(t)))?;
    drop(owned);
    let out = PyList::empty(py);
    for c in &cleaned {
        out.append(cleaned_dict(py, c)?)?;
    }
    Ok(out)
}

/// Cleans JSON-lines records exactly as `mend clean --format jsonl` does.
/// Returns, per line, `(record, notes, attributes, error)`: the output
/// record line, its notes line (`notes="line"`), its dolma attributes
/// line (`attributes=True`), or the reason the record was rejected (then
/// the others are None). A blank line gives `(None, None, None, None)`.
#[pyfunction]
#[pyo3(signature = (
    lines, text_field="text", notes=Some("line"), attributes=false,
    quotes="curly", only=None, skip=None, lossy="keep", threads=None
))]
#[allow(clippy::too_many_arguments)]
fn clean_jsonl<'py>(
    py: Python<'py>,
    lines: &Bound<'py, PyAny>,
    text_field: &str,
    notes: Option<&str>,
    attributes: bool,
    quotes: &str,
    only: Option<&Bound<'py, PyAny>>,
    skip: Option<&Bound<'py, PyAny>>,
    lossy: &str,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyList>> {
    let p = pipeline(quotes, only, skip, lossy)?;
    let notes = match notes {
        None => NotesMode::None,
        Some("line") => NotesMode::Line,
        Some("inline") => NotesMode::Inline,
        Some(other) => {
            return Err(PyValueError::new_err(format!(
                "notes= must be \"line\", \"inline\" or None, not {other:?}"
            )));
        }
    };
    let opts = Options {
        text_field: text_field.to_owned(),
        notes,
        attributes,
    };
    if lines.is_instance_of::<PyString>() || lines.is_instance_of::<PyBytes>() {
        return Err(PyValueError::new_err(
            "lines must be a list of lines (str or bytes), not one string",
        ));
    }
    // Each line as text, or why it is not (bytes that are not UTF-8).
    let mut owned: Vec<Result<String, String>> = Vec::new();
    for (i, line) in lines.try_iter()?.enumerate() {
        let line = line?;
        if let Ok(b) = line.cast::<PyBytes>() {
            owned.push(match std::str::from_utf8(b.as_bytes()) {
                Ok(s) => Ok(s.to_owned()),
                Err(e) => Err(format!("not UTF-8 at byte {}", e.valid_up_to())),
            });
        } else {
            owned.push(Ok(text_arg(&line, &format!("lines[{i}]"))?));
        }
    }
    type Row = Option<Result<jsonl::Output, String>>;
    let rows: Vec<Row> = py.detach(|| {
        map_par(&owned, threads, |line| {
            let line = match line {
                Ok(s) => s.trim_end_matches(['\n', '\r']),
                Err(e) => return Some(Err(e.clone())),
            };
            if line.bytes().all(|b| b.is_ascii_whitespace()) {
                return None; // skipped, as the command line does
            }
            Some(jsonl::clean_record(&p, line, &opts).map_err(|e| e.to_string()))
        })
    })?;
    drop(owned);
    let out = PyList::empty(py);
    let none = || py.None();
    for row in rows {
        let t = match row {
            None => PyTuple::new(py, [none(), none(), none(), none()])?,
            Some(Ok(o)) => PyTuple::new(
                py,
                [
                    o.record.into_py_any(py)?,
                    o.notes.into_py_any(py)?,
                    o.attributes.into_py_any(py)?,
                    none(),
                ],
            )?,
            Some(Err(e)) => PyTuple::new(py, [none(), none(), none(), e.into_py_any(py)?])?,
        };
        out.append(t)?;
    }
    Ok(out)
}

/// The original text from a clean text and its edits: a list of edit
/// dicts (as `clean` returns them), or JSON (a list of edits, or a notes
/// line / record with an `edits` list).
#[pyfunction]
fn restore(py: Python<'_>, text: &Bound<'_, PyAny>, edits: &Bound<'_, PyAny>) -> PyResult<String> {
    let text = text_arg(text, "text")?;
    let json: String = if let Ok(s) = edits.cast::<PyString>() {
        s.to_cow()?.into_owned()
    } else {
        let dumps = py
            .import(intern!(py, "json"))?
            .getattr(intern!(py, "dumps"))?;
        dumps
            .call1((edits,))
            .map_err(|e| PyValueError::new_err(format!("edits are not JSON data: {e}")))?
            .extract()?
    };
    let value: serde_json::Value = serde_json::from_str(&json)
        .map_err(|e| PyValueError::new_err(format!("edits: not JSON: {e}")))?;
    let list = match value {
        serde_json::Value::Object(mut m) => match m.remove("edits") {
            Some(v) => v,
            None => {
                return Err(PyValueError::new_err(
                    "edits: an object without an \"edits\" list",
                ));
            }
        },
        v => v,
    };
    let notes: Vec<Note> = serde_json::from_value(list)
        .map_err(|e| PyValueError::new_err(format!("edits: not a list of mend edits: {e}")))?;
    let bytes = py
        .detach(|| mend::notes::restore_bytes(&text, encoding_rs::UTF_8, &notes))
        .map_err(|e| PyValueError::new_err(format!("cannot restore: {e}")))?;
    String::from_utf8(bytes).map_err(|_| {
        PyValueError::new_err("cannot restore: the edits give bytes that are not UTF-8")
    })
}

/// The stage names, in pipeline order.
#[pyfunction]
fn stages() -> Vec<&'static str> {
    Stage::ALL.map(Stage::name).to_vec()
}

/// The extension module.
#[pymodule]
#[pyo3(name = "_mend")]
fn mend_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(clean, m)?)?;
    m.add_function(wrap_pyfunction!(clean_batch, m)?)?;
    m.add_function(wrap_pyfunction!(clean_jsonl, m)?)?;
    m.add_function(wrap_pyfunction!(restore, m)?)?;
    m.add_function(wrap_pyfunction!(stages, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
