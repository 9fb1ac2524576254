//! (being ported from inspector/capture.py)
