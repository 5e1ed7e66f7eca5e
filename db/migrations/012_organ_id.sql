-- The agency's identifier in the national document exchange (mã định danh, issued by the
-- province under Thông tư 10/2016/TT-BTTTT, at most 13 characters, e.g. 000.00.00.H00): the
-- OrganId of the metadata record (Nghị định 30/2020, Phụ lục VI) and of the edXML envelope
-- (QCVN 102:2016) the subscriber writes. Not known to us: '' until the operator sets it
-- (UPDATE agencies SET organ_id = '…' WHERE code = 'SKHCN'); the exports are not written
-- while it is empty.
ALTER TABLE agencies ADD COLUMN organ_id text NOT NULL DEFAULT ''
    CHECK (organ_id = '' OR organ_id ~ '^[0-9A-Z.]{1,13}$');
