"""Loading regions through `oversight ingest` also updates the app database's region tree."""

from sqlalchemy import select
from typer.testing import CliRunner

from oversight import db
from oversight.cli import app
from oversight.regions.models import Region

REGIONS = (
    "code,name,level,parent_code\n"
    "330212000000,鄞州区,district,\n"
    "330212101000,甲镇,township,330212000000\n"
    "330212101201,一村,village,330212101000\n"
)


def test_ingest_of_regions_syncs_the_app_region_tree(tmp_path):
    f = tmp_path / "regions.csv"
    f.write_text(REGIONS, encoding="utf-8")
    result = CliRunner().invoke(app, ["ingest", str(f)])
    assert result.exit_code == 0, result.output
    with db.session() as s:
        codes = set(s.scalars(select(Region.code)))
    assert codes == {"330212000000", "330212101000", "330212101201"}
    # a reload that changes nothing leaves the tree alone and says nothing about syncing
    again = CliRunner().invoke(app, ["ingest", str(f)])
    assert again.exit_code == 0 and "synced" not in again.output
