//! The extension module `inspector._core`: a thin layer over `tlsinspect_core`.
#![forbid(unsafe_code)]
use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
