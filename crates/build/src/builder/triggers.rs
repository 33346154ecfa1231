//! `ONBUILD` triggers of a stage's base: BuildKit runs them first thing in every stage
//! built on an image or stage that has them, as if written right after its `FROM`, and
//! the stage's own image carries none of them on.

use crate::dockerfile::parse;
use crate::instructions::{parse_mount, stages, Command, Step};

/// The instructions `triggers` (as an image's `OnBuild` holds them) stand for, each with
/// the `FROM` line `line`; a trigger that reads another stage or image is refused.
pub fn on_build_steps(triggers: &[String], line: usize) -> Result<Vec<Step<Command>>, String> {
    let mut steps = Vec::new();
    for trigger in triggers {
        let refused = |reason: &str| format!("ONBUILD {trigger} (from the base image): {reason}");
        let text = format!("FROM scratch\n{trigger}\n");
        let dockerfile = parse(&text).map_err(|e| refused(&e.to_string()))?;
        let mut parsed = stages(&dockerfile).map_err(|e| refused(&e.to_string()))?;
        let Some(mut stage) = parsed.stages.pop().filter(|_| parsed.stages.is_empty()) else {
            return Err(refused("not one instruction"));
        };
        for mut step in stage.commands.drain(..) {
            if reads_elsewhere(&step.command)? {
                return Err(refused("a trigger with --from is not supported"));
            }
            step.line = line;
            steps.push(step);
        }
    }
    Ok(steps)
}

/// Whether `command` reads another stage or an image (`COPY --from`, `RUN --mount=from=`).
fn reads_elsewhere(command: &Command) -> Result<bool, String> {
    Ok(match command {
        Command::Copy(copy) => copy.from.is_some(),
        Command::Run(run) => {
            let mut from = false;
            for mount in &run.mounts {
                from |= parse_mount(mount, &mut |value| Ok(value.to_owned()))?.from.is_some();
            }
            from
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers_become_steps() {
        let steps = on_build_steps(&["RUN make".to_owned(), "COPY . /src".to_owned()], 7).unwrap();
        assert_eq!(steps.len(), 2);
        assert!(matches!(&steps[0].command, Command::Run(_)) && steps[0].line == 7);
        assert_eq!(steps[1].original, "COPY . /src");
        assert!(on_build_steps(&["COPY --from=x a b".to_owned()], 1).unwrap_err().contains("--from"));
        assert!(on_build_steps(&["FROM x".to_owned()], 1).is_err());
        assert!(on_build_steps(&["BOGUS x".to_owned()], 1).is_err());
    }
}
