//! Form templates, holiday calendars and languages through the API (SQLite,
//! a real engine): create, list, read, replace, delete; bad input names the
//! field; another company sees none of it; a schedule names a stored
//! calendar and follows its replacement; completing a task whose form key
//! names a stored form refuses a value that does not fit and takes one that does.

#[path = "../common/mod.rs"]
mod common;

mod holidays;
mod languages;
mod setup;
mod templates;
