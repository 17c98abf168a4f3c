//! !stub
