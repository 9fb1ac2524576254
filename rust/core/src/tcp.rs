//! (being ported from inspector/tcp.py)
