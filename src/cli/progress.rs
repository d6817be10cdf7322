//! Progress of a long client command on stderr: a bar with rate and time left on a
//! terminal, a plain line every 10 % otherwise (logs, CI), nothing in tests. Nothing
//! here prints colour: the bars are plain characters, so a terminal that cannot
//! show colour, or a log, never receives escape codes beyond the bar's redraws.

use std::{
    io::{IsTerminal as _, Write as _},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// Not at all.
    Hidden,
    /// Bars redrawn in place: stderr is a terminal.
    Bars,
    /// A line at every tenth of the work: stderr is a file or pipe.
    Lines,
}

/// Where a command shows its progress.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    mode: ProgressMode,
}

impl Progress {
    /// Bars on a terminal, lines otherwise.
    pub fn stderr() -> Self {
        Self { mode: if std::io::stderr().is_terminal() { ProgressMode::Bars } else { ProgressMode::Lines } }
    }

    /// No progress at all (tests, library callers).
    pub fn hidden() -> Self {
        Self { mode: ProgressMode::Hidden }
    }

    /// A progress of the given mode.
    pub fn with_mode(mode: ProgressMode) -> Self {
        Self { mode }
    }

    /// How progress is shown.
    pub fn mode(&self) -> ProgressMode {
        self.mode
    }

    /// A stage of `total` items (`unit`: "rows", "records", "bytes").
    pub fn stage(&self, label: &str, total: u64, unit: &'static str) -> Stage {
        let bar = (self.mode == ProgressMode::Bars).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(8));
            let template = if unit == "bytes" {
                "{msg:<9} [{bar:32}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta}"
            } else {
                "{msg:<9} [{bar:32}] {human_pos}/{human_len} {rate} ETA {eta}"
            };
            bar.set_style(
                ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .with_key("rate", |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                        // Whole items per second, grouped: "12,345/s".
                        #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "a rate")]
                        let _ = write!(w, "{}/s", grouped(state.per_sec().round() as u64));
                    })
                    .progress_chars("=> "),
            );
            bar.set_message(label.to_owned());
            bar
        });
        self.start(label, total, unit, bar, false)
    }

    /// A stage of unknown length: a spinner on a terminal, a line at start and end
    /// otherwise.
    pub fn spinner(&self, label: &str) -> Stage {
        let bar = (self.mode == ProgressMode::Bars).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(8));
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_message(label.to_owned());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        if self.mode == ProgressMode::Lines {
            line(&format!("{label} …"));
        }
        self.start(label, 0, "", bar, true)
    }

    fn start(&self, label: &str, total: u64, unit: &'static str, bar: Option<ProgressBar>, spinner: bool) -> Stage {
        Stage {
            inner: Arc::new(StageInner {
                mode: self.mode,
                label: label.to_owned(),
                unit,
                bar,
                spinner,
                total: AtomicU64::new(total),
                done: AtomicU64::new(0),
                decile: AtomicU64::new(0),
                started: Instant::now(),
            }),
        }
    }
}

fn line(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "hrplan: {text}");
}

/// Thousands grouped with commas: 100000 → "100,000".
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[derive(Debug)]
struct StageInner {
    mode: ProgressMode,
    label: String,
    unit: &'static str,
    bar: Option<ProgressBar>,
    spinner: bool,
    total: AtomicU64,
    done: AtomicU64,
    decile: AtomicU64,
    started: Instant,
}

/// One stage of a command's progress; clones report to the same stage.
#[derive(Debug, Clone)]
pub struct Stage {
    inner: Arc<StageInner>,
}

impl Stage {
    /// Sets how much is done and the total (which may grow).
    pub fn set(&self, done: u64, total: u64) {
        let inner = &self.inner;
        inner.done.store(done, Ordering::Relaxed);
        inner.total.store(total, Ordering::Relaxed);
        if let Some(bar) = &inner.bar {
            bar.set_length(total);
            bar.set_position(done);
        }
        self.maybe_line(done, total);
    }

    /// Counts `n` more items done.
    pub fn inc(&self, n: u64) {
        let inner = &self.inner;
        let done = inner.done.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(bar) = &inner.bar {
            bar.inc(n);
        }
        self.maybe_line(done, inner.total.load(Ordering::Relaxed));
    }

    fn maybe_line(&self, done: u64, total: u64) {
        let inner = &self.inner;
        // Small work gets its closing line only.
        let small = if inner.unit == "bytes" { total < 1 << 20 } else { total < 1000 };
        if inner.mode != ProgressMode::Lines || small {
            return;
        }
        let decile = (done.min(total) * 10) / total;
        if decile > inner.decile.load(Ordering::Relaxed) && decile < 10 {
            inner.decile.store(decile, Ordering::Relaxed);
            line(&format!(
                "{}: {}% ({} of {} {})",
                inner.label,
                decile * 10,
                grouped(done),
                grouped(total),
                inner.unit
            ));
        }
    }

    /// Ends the stage, saying how long it took.
    pub fn finish(&self) {
        let inner = &self.inner;
        let elapsed = inner.started.elapsed().as_secs_f64();
        if let Some(bar) = &inner.bar {
            bar.finish_and_clear();
        }
        match inner.mode {
            ProgressMode::Hidden => {}
            ProgressMode::Bars | ProgressMode::Lines if inner.spinner => {
                line(&format!("{}: done in {elapsed:.1} s", inner.label));
            }
            ProgressMode::Bars | ProgressMode::Lines => {
                let done = inner.done.load(Ordering::Relaxed);
                line(&format!("{}: {} {} in {elapsed:.1} s", inner.label, grouped(done), inner.unit));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(100_000), "100,000");
        assert_eq!(grouped(1_234_567), "1,234,567");
    }
}
