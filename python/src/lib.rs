//! Python bindings of mend: placeholder.
