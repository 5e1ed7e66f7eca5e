-- Seed: the Sở Khoa học và Công nghệ tỉnh Cao Bằng (agency SKHCN), its subdivisions, the work
-- areas of section 1.a in the report's order, the indicators behind the numbers of the
-- monthly report, and the 2018 plan targets. Taken from report 588/BC-SKHCN (July 2018).
-- Plain SQL; the migration runner wraps the file in a transaction.

INSERT INTO agencies (code, parent_authority, name, symbol, place) VALUES
    ('SKHCN', 'UBND TỈNH CAO BẰNG', 'SỞ KHOA HỌC VÀ CÔNG NGHỆ', 'BC-SKHCN', 'Cao Bằng');

-- Subdivisions that push updates; position orders items of one area (section 1.a).
INSERT INTO units (code, agency_code, name, position) VALUES
    ('VAN_PHONG', 'SKHCN', 'Văn phòng Sở', 1),
    ('THANH_TRA', 'SKHCN', 'Thanh tra Sở', 2),
    ('CHI_CUC_TDC', 'SKHCN', 'Chi cục Tiêu chuẩn Đo lường Chất lượng', 3),
    ('QLKH', 'SKHCN', 'Phòng Quản lý Khoa học', 4),
    ('QLCN', 'SKHCN', 'Phòng Quản lý Công nghệ và Thị trường Công nghệ', 5),
    ('TT_TTUD', 'SKHCN', 'Trung tâm Thông tin và Ứng dụng KH&CN', 6);

-- Work areas of section 1.a in the template's order; lead_in may hold {year}.
INSERT INTO work_areas (code, agency_code, name, lead_in, position) VALUES
    ('VBQPPL', 'SKHCN', 'Tham mưu, xây dựng văn bản quy phạm pháp luật', 'Về công tác tham mưu, xây dựng văn bản quy phạm pháp luật', 1),
    ('NHIEM_VU', 'SKHCN', 'Quản lý nhiệm vụ KH&CN', 'Về công tác quản lý đối với các nhiệm vụ KH&CN trên địa bàn tỉnh:', 2),
    ('SANG_KIEN', 'SKHCN', 'Thẩm định sáng kiến cấp tỉnh', 'Về công tác thẩm định sáng kiến cấp tỉnh năm {year}:', 3),
    ('THANH_TRA', 'SKHCN', 'Thanh tra', 'Về công tác thanh tra:', 4),
    ('TDC', 'SKHCN', 'Tiêu chuẩn đo lường chất lượng', 'Về công tác tiêu chuẩn đo lường chất lượng:', 5),
    ('THONG_TIN', 'SKHCN', 'Thông tin, tuyên truyền KH&CN', 'Hoạt động thông tin, tuyên truyền về KH&CN:', 6),
    ('CONG_NGHE', 'SKHCN', 'Quản lý công nghệ và sở hữu trí tuệ', 'Về công tác quản lý công nghệ và sở hữu trí tuệ:', 7);

-- Indicators: each number of the narrative that is a measured quantity.
INSERT INTO indicators (code, area_code, label, measure) VALUES
    ('HD_TUVAN_NTMN', 'NHIEM_VU', 'Hội đồng tư vấn xét giao trực tiếp dự án thuộc Chương trình nông thôn miền núi', 'hội đồng'),
    ('DETAI_NGHIEMTHU', 'NHIEM_VU', 'Đề tài, dự án cấp tỉnh được đánh giá, nghiệm thu', 'đề tài, dự án'),
    ('DETAI_MOI', 'NHIEM_VU', 'Đề tài, dự án cấp tỉnh mới được phê duyệt và ký hợp đồng', 'đề tài, dự án'),
    ('SANGKIEN_HOSO', 'SANG_KIEN', 'Hồ sơ đề nghị công nhận sáng kiến cấp tỉnh được đánh giá, thẩm định', 'hồ sơ'),
    ('THANHTRA_CUOC', 'THANH_TRA', 'Cuộc thanh tra được triển khai', 'cuộc'),
    ('THANHTRA_DOANHNGHIEP', 'THANH_TRA', 'Doanh nghiệp được thanh tra', 'công ty'),
    ('THANHTRA_KEHOACH', 'THANH_TRA', 'Cuộc thanh tra có kế hoạch được xây dựng và phê duyệt', 'cuộc'),
    ('ISO_KIEMTRA', 'TDC', 'Cơ quan hành chính được kiểm tra, giám sát việc áp dụng Hệ thống ISO', 'đơn vị'),
    ('ISO_TOT', 'TDC', 'Đơn vị được kiểm tra duy trì thực hiện tốt Hệ thống ISO', 'đơn vị'),
    ('ISO_CHUATOT', 'TDC', 'Đơn vị được kiểm tra chưa thực hiện tốt việc duy trì Hệ thống ISO', 'đơn vị'),
    ('GTCL_HUONGDAN', 'TDC', 'Đơn vị được hướng dẫn hồ sơ tham gia Giải thưởng chất lượng quốc gia', 'đơn vị'),
    ('PHONGSU', 'THONG_TIN', 'Phóng sự tuyên truyền về KH&CN được phát sóng', 'phóng sự'),
    ('TIN_BAI', 'THONG_TIN', 'Tin, bài đăng trên trang thông tin điện tử của Sở', 'tin, bài');

-- Annual plan targets 2018 (denominators of "đạt ..% Kế hoạch").
INSERT INTO plan_targets (indicator_code, year, target) VALUES
    ('ISO_KIEMTRA', 2018, 25),
    ('DETAI_NGHIEMTHU', 2018, 14),
    ('THANHTRA_CUOC', 2018, 6),
    ('PHONGSU', 2018, 12),
    ('TIN_BAI', 2018, 300);
