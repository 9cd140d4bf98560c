"""Jienan's engine, with no Flask: domain/ → storage/ → rules/, workflow/, forms/ → services/; the modules here wire them.

- domain/     the vocabulary, the clock, China's working-day calendar
- storage/    tables, sessions and the one transaction boundary, migrations, version pointers, the text index,
              the attachment stores (local folder, database, S3)
- rules/      the DMN decision-table engine, the published tables and what the processes need of them
- workflow/   BPMN specs, checks and deployment, the runtime, timers, the script sandbox and its functions
- forms/      task-form schemas, their live versions, parsing submissions
- services/   use cases: one transaction each, plain data out
- demo/       demo data
- errors, i18n, mail, context, config, cli, worker: what every layer raises, translatable messages, the SMTP
  sender, and the wiring (the Engine object, settings, the `jienan` command, the timer worker)
"""
