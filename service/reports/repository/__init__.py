"""Every SQL statement the reports run, one module per concept.

- ``progress``: sums over the trigger-maintained counter tables (a few
  hundred rows whatever the number of enrollments);
- ``breakdown``: the trigger-maintained cube on PostgreSQL, a GROUP BY over
  the base rows otherwise;
- ``completions``: the completion row shared by the feed and the export
  (columns, joins, centre scope);
- ``feed``: one page of the append-only completions feed;
- ``export``: the CSV's one column list, as a query per dialect;
- ``expressions``: age bands, months and completion times in SQL.
"""
