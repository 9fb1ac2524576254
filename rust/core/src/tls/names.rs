//! (being ported from inspector/tls/names.py)
