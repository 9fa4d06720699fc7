//! Merging a run's update into its create, as LangSmith does on ingest.

use crate::run::RunRecord;

/// Folds `update` into `create`: fields the update carries win, fields it
/// leaves empty keep the create's value.
pub(crate) fn merge_update(create: &mut RunRecord, update: RunRecord) {
    if update.end_time.is_some() {
        create.end_time = update.end_time;
    }
    if update.outputs.is_some() {
        create.outputs = update.outputs;
    }
    if update.inputs.is_some() {
        create.inputs = update.inputs;
    }
    if update.error.is_some() {
        create.error = update.error;
    }
    if !update.events.is_empty() {
        create.events = update.events;
    }
    if !update.tags.is_empty() {
        create.tags = update.tags;
    }
    if !update.extra.metadata.is_empty() {
        create.extra.metadata = update.extra.metadata;
    }
    if update.extra.runtime.is_some() {
        create.extra.runtime = update.extra.runtime;
    }
    if update.serialized.is_some() {
        create.serialized = update.serialized;
    }
    if update.reference_example_id.is_some() {
        create.reference_example_id = update.reference_example_id;
    }
    // Attachments are sent once each (see `Run::post`): the update's are
    // new ones, or replace the create's of the same name.
    for a in update.attachments {
        crate::attachment::upsert(&mut create.attachments, a);
    }
}
