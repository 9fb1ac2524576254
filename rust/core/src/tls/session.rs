//! (being ported from inspector/tls/session.py)
