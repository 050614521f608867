import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Req,
  UploadedFile,
  UseInterceptors,
} from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiExtraModels,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { invalid, Limits } from '@streamstack/contracts';
import type { Request } from 'express';
import { RequireRole } from '../../common/auth/auth.decorators';
import { ListResult } from '../../common/http/envelope';
import { ApplicationSource, ApplicationsService } from './applications.service';
import { ManifestDto } from './manifest.dto';
import { PublishVersionDto } from './publish-version.dto';
import { VersionPipe } from './version.pipe';

/** The content types under which a package may be uploaded as the raw request body. */
export const PACKAGE_CONTENT_TYPES = [
  'application/gzip',
  'application/x-gzip',
  'application/zip',
  'application/octet-stream',
];

const uploadBody = {
  schema: {
    oneOf: [
      { $ref: getSchemaPath(ManifestDto) },
      { type: 'string', format: 'binary', description: 'a .tar.gz or .zip package with manifest.yaml at its root' },
      { type: 'object', properties: { package: { type: 'string', format: 'binary' } } },
    ],
  },
};

@ApiTags('ams: applications')
@ApiBearerAuth()
@ApiExtraModels(ManifestDto)
@RequireRole('admin')
@Controller('ams/1.0/applications')
export class ApplicationsController {
  constructor(private readonly apps: ApplicationsService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an application from a JSON manifest or an uploaded package' })
  @ApiConsumes('application/json', 'application/gzip', 'application/zip', 'multipart/form-data')
  @ApiBody(uploadBody)
  @UseInterceptors(FileInterceptor('package', { limits: { fileSize: Limits.packageBytes, files: 1 } }))
  create(@Req() req: Request, @Body() body: unknown, @UploadedFile() file?: Express.Multer.File) {
    return this.apps.create(sourceOf(req, body, file));
  }

  @Get()
  @ApiOperation({ summary: 'List applications' })
  async list() {
    const apps = await this.apps.list();
    return new ListResult(apps, apps.length);
  }

  @Get(':name')
  @ApiOperation({ summary: 'Show an application' })
  get(@Param('name') name: string) {
    return this.apps.get(name);
  }

  @Patch(':name')
  @ApiOperation({ summary: 'Add a version (JSON manifest or package)' })
  @ApiConsumes('application/json', 'application/gzip', 'application/zip', 'multipart/form-data')
  @ApiBody(uploadBody)
  @UseInterceptors(FileInterceptor('package', { limits: { fileSize: Limits.packageBytes, files: 1 } }))
  update(
    @Param('name') name: string,
    @Req() req: Request,
    @Body() body: unknown,
    @UploadedFile() file?: Express.Multer.File,
  ) {
    return this.apps.update(name, sourceOf(req, body, file));
  }

  @Delete(':name')
  @ApiOperation({ summary: 'Delete an application and its versions (refused while instances use it)' })
  async delete(@Param('name') name: string) {
    await this.apps.delete(name);
    return null;
  }

  @Get(':name/versions')
  @ApiOperation({ summary: "List an application's versions" })
  async versions(@Param('name') name: string) {
    const versions = await this.apps.listVersions(name);
    return new ListResult(versions, versions.length);
  }

  @Patch(':name/:version')
  @ApiOperation({ summary: 'Publish or unpublish a version' })
  publish(
    @Param('name') name: string,
    @Param('version', VersionPipe) version: number,
    @Body() body: PublishVersionDto,
  ) {
    return this.apps.setPublished(name, version, body.published);
  }
}

function sourceOf(req: Request, body: unknown, file?: Express.Multer.File): ApplicationSource {
  if (file) return { package: file.buffer };
  if (Buffer.isBuffer(body)) {
    if (body.length === 0) throw invalid('the uploaded package is empty');
    return { package: body };
  }
  if (!req.is('application/json')) {
    throw invalid(
      `send a JSON manifest (application/json) or a package (${PACKAGE_CONTENT_TYPES.join(', ')} or multipart/form-data field "package")`,
    );
  }
  return { manifest: body };
}
