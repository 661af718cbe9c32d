//! The bootstrap token's secret, handed to the operator without going through
//! the log: on the terminal when a person is watching stderr, otherwise in a
//! file only the service's user can read, which the log names.

use std::fs::{self, OpenOptions};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::config::DatabaseUrl;

/// The file's name, in the database's folder (or `./data` on Postgres).
pub const FILE_NAME: &str = "bootstrap-token";

/// Shows `secret` to whoever started the service: stderr on a terminal is a
/// person, not a log shipper; anything else is a log, so the secret goes to
/// a file instead and only the file's path is logged.
pub fn hand_over(secret: &str, url: &DatabaseUrl) {
    if std::io::stderr().is_terminal() {
        eprintln!(
            "\nFirst start on an empty database: created a Reports.ReadWrite.All token for tenant 'default'.\n\
             It is shown this once; keep it safe (revoke it with `token revoke`):\n\n    {secret}\n"
        );
        return;
    }
    let path = data_folder(url).join(FILE_NAME);
    match write_secret(&path, secret) {
        Ok(path) => tracing::warn!(
            path = %path.display(),
            "first start on an empty database: created a Reports.ReadWrite.All token for tenant \
             'default'; its secret is in the file named by path, readable by this user only: \
             copy it somewhere safe, then delete the file"
        ),
        Err(error) => tracing::error!(
            path = %path.display(),
            %error,
            "first start on an empty database: created a Reports.ReadWrite.All token for tenant \
             'default' but cannot write its secret to this file; revoke the token named \
             'bootstrap' (`token list`, `token revoke`) and create one with `token create`"
        ),
    }
}

/// Where the service keeps its files: the SQLite database's folder, or
/// `data` in the working directory when the database is elsewhere.
fn data_folder(url: &DatabaseUrl) -> PathBuf {
    match url.sqlite_file().as_deref().and_then(Path::parent) {
        Some(folder) if !folder.as_os_str().is_empty() => folder.to_path_buf(),
        Some(_) => PathBuf::from("."),
        None => PathBuf::from("data"),
    }
}

/// Writes `secret` and a newline to `path`, readable and writable by this
/// user only, replacing any earlier file in one step; the file's full path.
fn write_secret(path: &Path, secret: &str) -> std::io::Result<PathBuf> {
    let folder = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(folder)?;
    let temporary = folder.join(format!(".{FILE_NAME}.{}", std::process::id()));
    // A leftover of an earlier process with this id; a link is removed, not followed.
    let _ = fs::remove_file(&temporary);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temporary).and_then(|mut file| {
        file.write_all(format!("{secret}\n").as_bytes())?;
        file.sync_all()
    });
    if let Err(error) = written.and_then(|()| fs::rename(&temporary, path)) {
        let _ = fs::remove_file(&temporary);
        return Err(error);
    }
    std::path::absolute(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_goes_beside_the_sqlite_database_or_under_data() {
        let folder = |url: &str| data_folder(&DatabaseUrl::parse(url).unwrap());
        assert_eq!(folder("sqlite://data/x.db"), PathBuf::from("data"));
        assert_eq!(
            folder("sqlite:///var/lib/t/x.db"),
            PathBuf::from("/var/lib/t")
        );
        assert_eq!(folder("sqlite://x.db"), PathBuf::from("."));
        assert_eq!(folder("sqlite::memory:"), PathBuf::from("data"));
        assert_eq!(folder("postgres://u:p@db/x"), PathBuf::from("data"));
    }

    #[cfg(unix)]
    #[test]
    fn only_its_user_reads_the_file_and_a_new_one_replaces_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join(FILE_NAME);
        for secret in ["tus_first", "tus_second"] {
            let written = write_secret(&path, secret).unwrap();
            assert_eq!(written, path);
            assert_eq!(fs::read_to_string(&path).unwrap(), format!("{secret}\n"));
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
    }
}
