//! (being ported from inspector/tls/records.py)
