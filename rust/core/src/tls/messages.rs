//! (being ported from inspector/tls/messages.py)
