//! Which stages a build of one platform runs, in what order, on what platform, from
//! what base, as BuildKit's dispatcher decides:
//!
//! - `FROM` names are expanded with the global scope (an empty result is an error); a
//!   name that is an earlier stage's (case-insensitive) builds on that stage, `scratch`
//!   on nothing, anything else on an image;
//! - `FROM --platform=...` is expanded the same way and parsed; without it a stage is
//!   for the target platform;
//! - `COPY --from=X` names a stage (by name or index) defined before the current one, or
//!   an image; `RUN --mount=from=X` too; `--from` takes no variables;
//! - the target stage is `--target`, else the last; only the stages it depends on run.

use crate::instructions::{parse_mount, Command, Stages};
use crate::shell::Lexer;
use crate::variables::Assignments;
use archway_arch::Platform;
use std::collections::BTreeSet;
use std::fmt;

/// What a stage builds on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    Scratch,
    /// An earlier stage, by index.
    Stage(usize),
    /// An image reference (or a named build context of that name).
    Image(String),
}

/// Where a `COPY --from` or `RUN --mount=from=` takes files from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum From {
    Stage(usize),
    Image(String),
}

/// One stage as this build runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStage {
    pub index: usize,
    /// The stage's name, or `stage-N`.
    pub name: String,
    pub base: Base,
    pub platform: Platform,
    /// For each command (by position) that reads another stage or an image, where from.
    pub sources: Vec<(usize, From)>,
}

/// The stages to run, in order, the target last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub stages: Vec<PlannedStage>,
}

/// Why a build cannot be planned, with the line at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for PlanError {}

/// Plan a build of `target` (or the last stage) for `target_platform`.
pub fn plan(
    stages: &Stages,
    global: &Assignments,
    target: Option<&str>,
    target_platform: &Platform,
    lexer: &Lexer,
) -> Result<Plan, PlanError> {
    let names: Vec<Option<&str>> = stages.stages.iter().map(|s| s.name.as_deref()).collect();
    let find = |name: &str, before: usize| {
        let lower = name.to_lowercase();
        names[..before].iter().position(|n| *n == Some(lower.as_str()))
    };
    let mut planned = Vec::new();
    for (index, stage) in stages.stages.iter().enumerate() {
        let error = |message: String| PlanError { line: stage.line, message };
        let base_name = lexer.expand_word(&stage.base, global).map_err(|e| error(e.to_string()))?.word;
        if base_name.is_empty() {
            return Err(error(format!("base name ({}) should not be blank", stage.base)));
        }
        let base = match find(&base_name, index) {
            Some(earlier) => Base::Stage(earlier),
            None if base_name == "scratch" => Base::Scratch,
            None => Base::Image(base_name),
        };
        let platform = match &stage.platform {
            None => target_platform.clone(),
            Some(written) => {
                let expanded = lexer.expand_word(written, global).map_err(|e| error(e.to_string()))?.word;
                if expanded.is_empty() {
                    return Err(error(format!("empty platform value from expression {written}")));
                }
                Platform::parse(&expanded).map_err(|e| error(format!("failed to parse platform {written}: {e}")))?
            }
        };
        let mut sources = Vec::new();
        for (position, step) in stage.commands.iter().enumerate() {
            let step_error = |message: String| PlanError { line: step.line, message };
            for from in froms(&step.command).map_err(step_error)? {
                if from.contains('$') {
                    return Err(step_error(
                        "variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround"
                            .to_owned(),
                    ));
                }
                let source = match from.parse::<usize>() {
                    Ok(n) if n < stages.stages.len() => From::Stage(n),
                    Ok(n) => return Err(step_error(format!("invalid stage index {n}"))),
                    Err(_) => match names.iter().position(|name| *name == Some(from.to_lowercase().as_str())) {
                        Some(n) => From::Stage(n),
                        None => From::Image(from),
                    },
                };
                if let From::Stage(n) = source {
                    if n >= index {
                        return Err(step_error(format!(
                            "cannot copy from stage {:?}, it needs to be defined before current stage {:?}",
                            stage_name(stages, n),
                            stage_name(stages, index)
                        )));
                    }
                }
                sources.push((position, source));
            }
        }
        planned.push(PlannedStage { index, name: stage_name(stages, index), base, platform, sources });
    }
    let target_index = match target {
        None => planned.len().checked_sub(1).ok_or(PlanError { line: 1, message: "no build stage".to_owned() })?,
        Some(name) => find(name, names.len())
            .ok_or_else(|| PlanError { line: 1, message: format!("target stage {name:?} could not be found") })?,
    };
    let needed = needed_stages(&planned, target_index);
    Ok(Plan { stages: planned.into_iter().filter(|stage| needed.contains(&stage.index)).collect() })
}

/// The stage's name for messages: its own, or `stage-N`.
fn stage_name(stages: &Stages, index: usize) -> String {
    stages.stages[index].name.clone().unwrap_or_else(|| format!("stage-{index}"))
}

/// The `--from` values of a command: `COPY --from` and `RUN --mount=...,from=`.
fn froms(command: &Command) -> Result<Vec<String>, String> {
    match command {
        Command::Copy(copy) => Ok(copy.from.iter().cloned().collect()),
        Command::Run(run) => {
            let mut froms = Vec::new();
            for mount in &run.mounts {
                froms.extend(parse_mount(mount, &mut |value| Ok(value.to_owned()))?.from);
            }
            Ok(froms)
        }
        _ => Ok(Vec::new()),
    }
}

/// The target and every stage it depends on, through bases and sources.
fn needed_stages(planned: &[PlannedStage], target: usize) -> BTreeSet<usize> {
    let mut needed = BTreeSet::new();
    let mut pending = vec![target];
    while let Some(index) = pending.pop() {
        if !needed.insert(index) {
            continue;
        }
        let stage = &planned[index];
        if let Base::Stage(base) = stage.base {
            pending.push(base);
        }
        for (_, source) in &stage.sources {
            if let From::Stage(n) = source {
                pending.push(*n);
            }
        }
    }
    needed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile::parse;
    use crate::instructions::stages;
    use crate::variables::platform_args;

    fn plan_of(text: &str, target: Option<&str>) -> Result<Plan, PlanError> {
        let stages = stages(&parse(text).unwrap()).unwrap();
        let arm64 = Platform::parse("linux/arm64").unwrap();
        let mut global = platform_args(&arm64, &Platform::parse("linux/amd64").unwrap());
        global.push(("DEBIAN".into(), "bookworm".into()));
        plan(&stages, &global, target, &arm64, &Lexer::new('\\'))
    }

    #[test]
    fn stages_bases_platforms_and_targets() {
        let text = "FROM --platform=$BUILDPLATFORM debian:$DEBIAN AS build\nRUN make\n\
                    FROM scratch AS unused\n\
                    FROM build AS test\n\
                    FROM debian:$DEBIAN\nCOPY --from=build /out /\nCOPY --from=0 /x /\nRUN --mount=from=alpine,target=/a true\n";
        let plan = plan_of(text, None).unwrap();
        let summary: Vec<(usize, &str, &Base, String)> =
            plan.stages.iter().map(|s| (s.index, s.name.as_str(), &s.base, s.platform.to_string())).collect();
        assert_eq!(
            summary,
            [
                (0, "build", &Base::Image("debian:bookworm".into()), "linux/amd64".to_owned()),
                (3, "stage-3", &Base::Image("debian:bookworm".into()), "linux/arm64".to_owned()),
            ]
        );
        assert_eq!(
            plan.stages[1].sources,
            [(0, From::Stage(0)), (1, From::Stage(0)), (2, From::Image("alpine".into()))]
        );
        let test = plan_of(text, Some("TEST")).unwrap();
        assert_eq!(test.stages.iter().map(|s| s.index).collect::<Vec<_>>(), [0, 2]);
        assert_eq!(test.stages[1].base, Base::Stage(0));
    }

    #[test]
    fn refusals_with_their_lines() {
        let error = |text: &str, target| plan_of(text, target).unwrap_err();
        assert_eq!(error("FROM x\n", Some("nope")).message, "target stage \"nope\" could not be found");
        assert_eq!(error("FROM $NOPE\n", None).message, "base name ($NOPE) should not be blank");
        assert_eq!(error("FROM x\nRUN a\nCOPY --from=$X a b\n", None), PlanError {
            line: 3,
            message: "variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround".into()
        });
        assert_eq!(
            error("FROM x\nCOPY --from=later a b\nFROM y AS later\n", None).message,
            "cannot copy from stage \"later\", it needs to be defined before current stage \"stage-0\""
        );
        assert_eq!(error("FROM x\nCOPY --from=7 a b\n", None).message, "invalid stage index 7");
        assert!(error("FROM --platform=linux/arm64/v8/x x\n", None).message.starts_with("failed to parse platform"));
    }
}
