// STUB: implemented by the core flow-control work.
