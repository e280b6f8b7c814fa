//! What the tests that run the `motcua` binary share: starting it, a free port, and
//! stopping a server as a service manager would.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The `motcua` binary of this build, logging warnings only.
pub fn motcua() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_motcua"));
    command.env("RUST_LOG", "warn");
    command
}

/// A loopback address no one listens on now.
pub fn free_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// Stops a server with SIGTERM, as a service manager would, and checks that it shut
/// down cleanly within 20 s.
pub fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(
                status.success(),
                "server exited with {status} after SIGTERM"
            );
            return;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("server did not stop within 20 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
