//! EAP
