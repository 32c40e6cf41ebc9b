//! Network helpers shared by the cosocket APIs.

pub mod dns;
