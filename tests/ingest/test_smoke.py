"""End-to-end: a small CSV batch through ingest, on every warehouse engine."""

from oversight.ingest import ingest
from oversight.warehouse import open_warehouse

CSV = (
    "record_id,region_code,worker_id_number,worker_name,work_date,days,amount,备注\n"
    "L1,330212101201,11010519491231002X,张三,2025/3/1,1,\"1,234.50\",hi\n"
    "L2,330212101201,110105194912310021,李四,2025-02-30,1,100,\n"
    "L3,330212101201,,王五,2025年3月2日,0.5,50,\n"
)


def test_small_batch_loads_rejects_and_reloads_idempotently(tmp_path, warehouse_url):
    f = tmp_path / "labor.csv"
    f.write_text(CSV, encoding="utf-8")
    wh = open_warehouse(warehouse_url)
    try:
        r = ingest([f], wh)
        c = r.counts["labor"]
        assert (c.read, c.loaded, c.replaced, c.rejected, c.unresolved) == (3, 2, 0, 1, 1)
        bad = [x for x in r.rejections if x.kind == "row"]
        assert bad[0].line == 3 and bad[0].column == "work_date" and "2025-02-30" in bad[0].reason
        rows = wh.execute('SELECT record_id, amount, work_date, _attrs, _unresolved FROM "labor" ORDER BY record_id')
        assert str(rows[0][1]) == "1234.50" and str(rows[0][2]) == "2025-03-01"
        assert '"备注": "hi"' in rows[0][3]
        assert rows[1][4] is True
        again = ingest([f], wh).counts["labor"]
        assert (again.loaded, again.replaced, again.unchanged, again.rejected) == (0, 2, 2, 1)
        assert wh.count("labor") == 2
        assert wh.count("_quarantine") == 1
    finally:
        wh.close()
