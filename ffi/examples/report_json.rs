//! Prints core's report, as JSON, of the TCP tables in a directory laid out
//! like `/proc/net` (`tcp`, `tcp6`) under the default config: the oracle the
//! C tests compare `ho_report_json` with, byte for byte.
//!
//! ```sh
//! cargo run -p halfopen-ffi --example report_json -- tests/captures/flood
//! ```

use halfopen::live::{Namespace, Options};
use halfopen::report::Report;
use halfopen::snapshot::Snapshot;
use halfopen::verdict::Config;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args_os()
        .nth(1)
        .ok_or("usage: report_json DIR (a directory holding tcp and tcp6)")?;
    let opts = Options::new().namespace(Namespace::Dir(dir.into()));
    let (snapshot, summary) = Snapshot::read(&opts)?;
    let report = Report::build(&snapshot, &Config::default())?.with_source(summary.origin);
    println!("{}", report.to_json());
    Ok(())
}
