//! (being ported from inspector/link.py)
