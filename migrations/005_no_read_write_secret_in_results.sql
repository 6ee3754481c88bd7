-- Read-write secrets live only in sync_folders: older share-folder and revoke-share results
-- carried one in requests.result, which GET /api/requests* served. Drop it from every row.
UPDATE requests
   SET result = json_remove(result, '$.secrets.readWrite')
 WHERE result IS NOT NULL
   AND json_valid(result)
   AND json_type(result, '$.secrets.readWrite') IS NOT NULL;
