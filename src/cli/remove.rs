//! `tributary remove NAME`: cuts the feed's `[[feeds]]` table out of the
//! config file, every other byte kept. The store keeps the feed's articles
//! (the feed is marked inactive when the config is next applied).

use std::process::ExitCode;

use crate::config::{Config, ConfigFile, EditError};

/// Removes the feed called `name` from the config file.
pub(super) fn run(config: &Config, name: &str) -> anyhow::Result<ExitCode> {
    let mut file = ConfigFile::read(&config.path)?;
    match file.remove_feed(name) {
        Ok(()) => {}
        Err(EditError::NoSuchFeed(_)) => {
            eprintln!("error: no feed named `{name}` in {}", config.path.display());
            return Ok(ExitCode::from(2));
        }
        Err(e) => return Err(e.into()),
    }
    file.save()?;
    println!(
        "removed {name} from {} (its articles stay in the store)",
        config.path.display()
    );
    println!("{}", super::add::RELOAD_HINT);
    Ok(ExitCode::SUCCESS)
}
