//! The cache's behaviour, one test per rule (RELIABILITY.md cases 10-21 at the unit level), on a
//! manual clock: nothing sleeps for real.

mod bounds;
mod keys;
mod lifecycle;
mod refresh;
mod serving;
mod single_flight;
mod support;
