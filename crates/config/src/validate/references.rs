//! Checks across records: unique names and credentials, and sandboxes naming real providers.

use super::{provider, sandbox};
use crate::reader::{At, shorten};
use crate::report::Report;
use crate::suggest;

pub(super) fn check(
    providers: &[provider::Checked<'_>],
    sandboxes: &[sandbox::Checked<'_>],
    report: &mut Report<'_>,
) {
    let provider_names: Vec<At<&str>> = providers.iter().filter_map(|p| p.name).collect();
    let sandbox_names: Vec<At<&str>> = sandboxes.iter().filter_map(|s| s.name).collect();
    duplicates("provider", &provider_names, report);
    duplicates("sandbox", &sandbox_names, report);
    shared_credentials(sandboxes, report);

    for reference in sandboxes.iter().flat_map(|s| &s.providers) {
        if provider_names.iter().any(|p| p.value == reference.value) {
            continue;
        }
        let finding = report
            .error(
                reference.span(),
                format!("no provider is named `{}`", shorten(reference.value)),
            )
            .consequential();
        match suggest::closest(reference.value, provider_names.iter().map(|p| p.value)) {
            Some(close) => finding.hint(format!("did you mean `{close}`?")),
            None if provider_names.is_empty() => finding.hint("declare it in a [[provider]] table"),
            None => finding.hint(format!(
                "declared providers: {}",
                provider_names
                    .iter()
                    .map(|p| p.value)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        };
    }

    for name in &provider_names {
        let attached = sandboxes
            .iter()
            .flat_map(|s| &s.providers)
            .any(|r| r.value == name.value);
        if !attached && !sandboxes.is_empty() {
            report
                .warning(
                    name.span(),
                    format!(
                        "provider `{}` is attached to no sandbox",
                        shorten(name.value)
                    ),
                )
                .hint("list it in a sandbox's providers, or remove it")
                .consequential();
        }
    }
}

/// The first item other than `items[i]` whose value equals its value.
fn another_with_the_same_value<T: PartialEq>(items: &[At<T>], i: usize) -> Option<&At<T>> {
    items
        .iter()
        .enumerate()
        .find(|(j, item)| *j != i && item.value == items[i].value)
        .map(|(_, item)| item)
}

/// Reports every use of a name used more than once, each pointing at another use.
fn duplicates(what: &str, names: &[At<&str>], report: &mut Report<'_>) {
    for (i, name) in names.iter().enumerate() {
        let Some(other) = another_with_the_same_value(names, i) else {
            continue;
        };
        let other_line = report.line(&other.span());
        let message = if other.span.0 > name.span.0 {
            format!(
                "{what} name `{}` is used again at line {other_line}",
                shorten(name.value)
            )
        } else {
            format!(
                "{what} name `{}` is already used at line {other_line}",
                shorten(name.value)
            )
        };
        report
            .error(name.span(), message)
            .hint(format!("{what} names must be unique"));
    }
}

/// Two sandboxes with one credential would be indistinguishable to the gateway.
fn shared_credentials(sandboxes: &[sandbox::Checked<'_>], report: &mut Report<'_>) {
    let hashes: Vec<At<[u8; 32]>> = sandboxes.iter().filter_map(|s| s.credential).collect();
    for (i, hash) in hashes.iter().enumerate() {
        let Some(other) = another_with_the_same_value(&hashes, i) else {
            continue;
        };
        let other_line = report.line(&other.span());
        report
            .error(hash.span(), format!("this sandbox credential is also the credential of the sandbox at line {other_line}"))
            .hint("give every sandbox its own credential, or the gateway cannot tell them apart");
    }
}
