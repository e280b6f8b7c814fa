//! `motcua user create|password`: accounts that sign in to the console with a password.
//! A generated password is printed once and signs in; one piped on standard input is
//! never printed; a short one is refused with the rule and nothing is created; a new
//! password ends the account's sessions and the old one stops working.

#[allow(dead_code)]
mod common;
use common::motcua;

use std::io::Write;
use std::process::Stdio;

use motcua::clock::Clock;
use motcua::sessions::{self, SignInError};
use motcua::store::Store;

fn run(args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = motcua()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn motcua");
    {
        let mut input = child.stdin.take().expect("stdin");
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).expect("write stdin");
        }
    }
    let output = child.wait_with_output().expect("motcua ran");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).to_string(),
        stderr,
    )
}

fn line_value(stdout: &str, key: &str) -> Option<String> {
    stdout
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{key}: ")))
        .map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_created_at_the_command_line_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("province.db").display());
    let (ok, _, stderr) = run(
        &[
            "init",
            "--province",
            "phu-tho",
            "--name",
            "Tỉnh Phú Thọ",
            "--agency-id",
            "000.00.00.H43",
            "--database-url",
            &url,
        ],
        None,
    );
    assert!(ok, "{stderr}");
    let now = Clock::system().now();

    // A generated password: printed once, and it signs in.
    let (ok, stdout, stderr) = run(
        &[
            "user",
            "create",
            "--unit",
            "phu-tho",
            "--role",
            "publisher",
            "--name",
            "it-lan",
            "--database-url",
            &url,
        ],
        None,
    );
    assert!(ok, "{stderr}");
    assert_eq!(line_value(&stdout, "account").as_deref(), Some("it-lan"));
    let generated = line_value(&stdout, "password").expect("a generated password is printed");
    assert_eq!(generated.len(), 20, "{stdout}");
    let store = Store::connect(&url).await.unwrap();
    let session = sessions::sign_in(&store, "it-lan", &generated, now)
        .await
        .expect("the generated password signs in");
    assert_eq!(session.actor.role.as_str(), "publisher");
    assert_eq!(session.actor.unit, "phu-tho");

    // A piped password is not printed back.
    let (ok, stdout, stderr) = run(
        &[
            "user",
            "create",
            "--unit",
            "phu-tho",
            "--role",
            "admin",
            "--name",
            "admin-hoa",
            "--password-stdin",
            "--database-url",
            &url,
        ],
        Some("mật khẩu đủ dài 2026\n"),
    );
    assert!(ok, "{stderr}");
    assert!(!stdout.contains("mật khẩu"), "{stdout}");
    assert!(line_value(&stdout, "password").is_none(), "{stdout}");
    sessions::sign_in(&store, "admin-hoa", "mật khẩu đủ dài 2026", now)
        .await
        .expect("the piped password signs in");

    // Too short: refused with the rule, and no account is created.
    let (ok, _, stderr) = run(
        &[
            "user",
            "create",
            "--unit",
            "phu-tho",
            "--role",
            "admin",
            "--name",
            "short-one",
            "--password-stdin",
            "--database-url",
            &url,
        ],
        Some("ngắn\n"),
    );
    assert!(!ok);
    assert!(stderr.contains("10 to 256 characters"), "{stderr}");
    let (_, listed, _) = run(&["token", "list", "--database-url", &url], None);
    assert!(!listed.contains("short-one"), "{listed}");

    // A new password ends the sessions and replaces the old one.
    let cookie = session.cookie.clone();
    assert!(
        sessions::session(&store, &cookie, now)
            .await
            .unwrap()
            .is_some()
    );
    let (ok, stdout, stderr) = run(
        &[
            "user",
            "password",
            "it-lan",
            "--password-stdin",
            "--database-url",
            &url,
        ],
        Some("một mật khẩu mới hơn\n"),
    );
    assert!(ok, "{stderr}");
    assert_eq!(line_value(&stdout, "account").as_deref(), Some("it-lan"));
    assert!(
        sessions::session(&store, &cookie, now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        sessions::sign_in(&store, "it-lan", &generated, now).await,
        Err(SignInError::Refused)
    ));
    sessions::sign_in(&store, "it-lan", "một mật khẩu mới hơn", now)
        .await
        .expect("the new password signs in");

    // An unknown account is named.
    let (ok, _, stderr) = run(
        &["user", "password", "nobody", "--database-url", &url],
        None,
    );
    assert!(!ok);
    assert!(stderr.contains("no account `nobody`"), "{stderr}");
}
